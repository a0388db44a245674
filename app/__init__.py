"""The Streamlit explorer's views (the only package besides ``streamlit_app.py`` importing streamlit)."""
