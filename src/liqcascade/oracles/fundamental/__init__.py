"""Oracle kind `fundamental`: a pegged asset's fundamental value (redemption or exchange rate)."""
