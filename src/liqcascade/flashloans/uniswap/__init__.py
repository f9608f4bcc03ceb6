"""Flash-loan source ``uniswap``: a Uniswap v3 pool's ``flash`` (the pool's fee tier)."""
