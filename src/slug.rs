//! Category URL slugs: readable, stable, unique, overridable.
