"""recsys: movie retrieval with attention."""

from recsys.catalog import Catalog
from recsys.engine import Hit, MovieSearch, Recommendation
from recsys.errors import CatalogError, ModelError, QueryError, RecsysError
from recsys.files import load_catalog

__version__ = "0.1.0"
__all__ = [
    "Catalog",
    "CatalogError",
    "Hit",
    "ModelError",
    "MovieSearch",
    "QueryError",
    "Recommendation",
    "RecsysError",
    "load_catalog",
    "__version__",
]
