"""The stability/backstop pool that absorbs forced sales before they reach the venue."""
