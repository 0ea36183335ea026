"""The Streamlit app's pages (run by ``app.py``) and the thin layer they share over the planner and the engines.

Each page file is a script that ``st.navigation`` runs; its functions can also be imported (tests call the data
page's validation without a browser). Nothing here computes: pages call ``planner``, ``optimizer``, ``mmm``,
``attribution`` and ``contracts`` and show what they return.
"""
