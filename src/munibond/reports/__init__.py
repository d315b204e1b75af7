"""Reports staff file: payment runs (CSV, HTML), withholding remittance and annual summaries, reconciliation.

Read-only: every report reads the chain (events and views) and the investor directory, and sends nothing."""
