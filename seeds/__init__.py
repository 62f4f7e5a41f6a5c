"""The five source documents, their metadata, and the curated events drawn from them."""
