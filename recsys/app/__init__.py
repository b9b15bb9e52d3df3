"""The Streamlit app (``streamlit run app.py``): UI only, over the ``recsys`` package; needs the ``app`` extra."""
