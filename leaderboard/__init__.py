"""The leaderboard (schema, store, renderers): not built yet."""
