"""Applications: who may apply (R1) and the documents that come with them."""
