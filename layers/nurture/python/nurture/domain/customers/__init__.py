"""Customers: leads with purchases, scored by RFM and grouped by CPM (issue 24)."""
