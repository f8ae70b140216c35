"""Services: each operation joins the engine and the store in one transaction."""
