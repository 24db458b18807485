"""Label Studio: the labelling config, tasks with predictions, and annotations back.

Pure functions on plain data; ``workbench.labelstudio_sync`` talks to the server through
``label-studio-sdk`` and keeps the sync state in the store.
"""

from pipelines.labelstudio.config import canonical, config_sha256, project_config, same_config
from pipelines.labelstudio.convert import (
    LabelStudioFormatError,
    PulledAnnotation,
    load_tasks_json,
    parse_task,
    task_identity,
)
from pipelines.labelstudio.redact import redact_inputs
from pipelines.labelstudio.tasks import (
    AUDIO_KEY,
    ENCOUNTER_KEY,
    VERSION_KEY,
    build_task,
    prediction_results,
    task_data,
    task_digest,
)

__all__ = [
    "AUDIO_KEY",
    "ENCOUNTER_KEY",
    "VERSION_KEY",
    "LabelStudioFormatError",
    "PulledAnnotation",
    "build_task",
    "canonical",
    "config_sha256",
    "load_tasks_json",
    "parse_task",
    "prediction_results",
    "project_config",
    "redact_inputs",
    "same_config",
    "task_data",
    "task_digest",
    "task_identity",
]
