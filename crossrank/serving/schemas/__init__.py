"""Request models and response builders, one module per wire API: Cohere v1/v2 (+ Jina) and TEI."""
