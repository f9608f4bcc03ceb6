"""Agent ``flash_attacker``: an atomic (one-block) flash-loan liquidation attack."""
