"""Will a model fit? Memory estimates from the GGUF header, and the load plan built on them."""

from wizard.fit.estimate import (
    KV_TYPES,
    FitSettingsError,
    MemoryEstimate,
    estimate_memory,
    kv_bytes_per_layer,
    kv_cells,
)
from wizard.fit.plan import COMFORTABLE, CONTEXT_TOO_LONG, TIGHT, TOO_BIG, FitPlan, plan_load
from wizard.fit.shape import ModelShape, ModelShapeError, model_shape

__all__ = [
    "COMFORTABLE", "CONTEXT_TOO_LONG", "TIGHT", "TOO_BIG", "FitPlan", "plan_load", "KV_TYPES", "FitSettingsError", "MemoryEstimate", "ModelShape", "ModelShapeError", "estimate_memory",
    "kv_bytes_per_layer", "kv_cells", "model_shape",
]
