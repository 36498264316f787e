"""The book's pages: numbered tables, figures, the summary and the example-run page."""
