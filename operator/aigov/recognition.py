"""Reading the recognition configuration: the engine table file and the accelerator lists.

The operator reads it once at start-up (`aigov operator`), and `aigov check --engines` reads
the same file, so offline verdicts recognise what the cluster's operator recognises.
"""

from __future__ import annotations

from aigov.api.engines import EngineTable, builtin_engines
from aigov.config import ConfigError, Settings
from aigov.policy.gpu import DEFAULT_ACCELERATOR_RESOURCES, AcceleratorRules
from aigov.policy.recognition import Recognition

__all__ = ["load_recognition"]


def load_recognition(settings: Settings) -> Recognition:
    """The engine table and accelerator rules of `settings`, read once at start-up.

    Raises ConfigError naming the file when AIGOV_ENGINES_FILE cannot be read or parsed:
    an operator that silently ignored a platform team's engines would let them through.
    """
    engines = builtin_engines()
    path = settings.engines_file
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            engines = engines.extended(EngineTable.from_yaml(text, str(path)))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"AIGOV_ENGINES_FILE={path}: {exc}") from exc
    rules = AcceleratorRules(
        resources=DEFAULT_ACCELERATOR_RESOURCES + settings.accelerator_resources,
        runtime_classes=frozenset(settings.gpu_runtime_classes),
    )
    return Recognition(engines=engines, accelerators=rules)
