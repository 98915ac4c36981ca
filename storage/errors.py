"""Typed errors of the catalog; `str(err)` is one line for users."""
from __future__ import annotations


class CatalogError(Exception):
    """Base of every error the catalog raises on bad input or bad state."""


class CatalogURLError(CatalogError):
    """The catalog URL cannot be parsed or has no installed driver."""


class CatalogUnavailable(CatalogError):
    """The database behind the URL cannot be reached or opened."""


class UnknownRecord(CatalogError):
    """A model, run or attempt id that the catalog does not hold."""


class InvalidTransition(CatalogError):
    """An attempt or run asked to move to a state its current state forbids."""


class InvalidValue(CatalogError):
    """A record field outside its allowed values (status, stage, kind ...)."""
