"""The dashboard pages (st.Page files), one per page."""
