//! opengpu task market: tasks, escrow, commit/reveal, competition models and settlement
