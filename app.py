"""qda's Streamlit app: `streamlit run app.py` (or `qda app PROJECT`)."""

from qda.ui.app import main

main()
