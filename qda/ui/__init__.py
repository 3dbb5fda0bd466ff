"""The Streamlit app: pages and widgets. The only part of qda that imports streamlit."""
