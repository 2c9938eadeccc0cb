"""Models: the catalogue, where model files live, fetching, converting and quantising them."""
