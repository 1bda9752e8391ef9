//! Shared state for frontdesk: memory and Redis backends, GCRA rate limiting, fallback and health
