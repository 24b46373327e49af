"""Tessera's Python client: training sets and online features as pandas DataFrames, with
the names of Feast's SDK.

    import tessera
    store = tessera.FeatureStore(repo_path="quickstart")
    training_df = store.get_historical_features(entity_df=entity_df, features=[...]).to_df()
"""

from . import errors
from .store import (
    Entity,
    FeatureService,
    FeatureStore,
    FeatureView,
    Field,
    OnlineResponse,
    PushMode,
    RetrievalJob,
)

__version__ = "0.2.0"

__all__ = [
    "Entity",
    "FeatureService",
    "FeatureStore",
    "FeatureView",
    "Field",
    "OnlineResponse",
    "PushMode",
    "RetrievalJob",
    "errors",
    "__version__",
]
