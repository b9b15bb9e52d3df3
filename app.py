"""recsys in the browser: search, recommendations from likes, catalogs, retraining, evaluation.

Run with ``streamlit run app.py``; the app itself is ``recsys.app`` (UI only, over the ``recsys`` package).
"""

from recsys.app.main import main

main()
