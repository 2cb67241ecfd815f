"""Pure functions that compute every number the dashboard shows."""
