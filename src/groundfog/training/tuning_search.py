"""The search behind a tuning job, on Optuna: which hyperparameters to try next and which
training jobs to stop early.

The tuning orchestrator runs every trial as its own training job, possibly across restarts,
so this module speaks in trial *numbers* over Optuna's ask-and-tell interface, and keeps the
study in a journal file that a restarted orchestrator reopens::

    study = create_study(config, home / "study.journal", "my-tuning-job")
    seed_from_parents(study, config, parent_trials)        # warm start, once
    number, hyperparameters = ask(study, config)           # -> launch a training job
    if report(study, number, epoch, metric_value):         # per emitted objective metric
        ...stop the job...; tell(study, number, None, "Pruned")
    tell(study, number, final_metric_value, "Completed")
    leaderboard(trial_summaries(study), config.objective.type)

Strategies map to samplers: Bayesian -> TPE (multivariate), Random -> random, Grid -> grid over
the categorical values, Hyperband -> TPE with Optuna's ``HyperbandPruner``. Early stopping
``Auto`` -> ``MedianPruner`` (a job is stopped when its objective at a step is worse than the
median of earlier jobs at the same step, which is SageMaker's rule), ``Off`` -> no pruning.

Choices made here:
- ``ScalingType: Auto`` searches on a log scale when MinValue > 0 and MaxValue / MinValue >=
  ``AUTO_LOG_RATIO`` (three orders of magnitude), linearly otherwise.
- ``ReverseLogarithmic`` samples ``u = 1 - x`` log-uniformly under an internal Optuna name and
  gives back ``x = 1 - u`` (within [MinValue, MaxValue], dense near 1); the values a training job
  gets are kept in each trial's ``hyperparameters`` user attribute.
- With a RandomSeed, each trial's random draws are seeded by (RandomSeed, trial number), so a
  restarted orchestrator continues the same sequence instead of replaying it from the start.

The functions are not thread-safe: the orchestrator calls them for one study from one thread.
Optuna is imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from groundfog.training.tuning_config import TuningJobConfig

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

# Trial user attribute holding the hyperparameters (strings) a training job is given.
HYPERPARAMETERS_ATTR = "hyperparameters"
# Trial user attribute marking a trial copied from a parent tuning job.
WARM_START_ATTR = "warm_start"
# Study user attribute recording that the warm start happened (so it is done once).
WARM_START_STUDY_ATTR = "groundfog:warm_start"
AUTO_LOG_RATIO = 1000.0
# MedianPruner for TrainingJobEarlyStoppingType=Auto: judge only once five jobs have finished,
# never at step 0 (a first, noisy epoch when epochs count from 0), and only at steps that at
# least three earlier jobs reported.
MEDIAN_STARTUP_TRIALS = 5
MEDIAN_WARMUP_STEPS = 1
MEDIAN_MIN_TRIALS = 3
HYPERBAND_REDUCTION_FACTOR = 3
_REVERSE_LOG_PREFIX = "1-"

STATES = ("Completed", "Failed", "Stopped", "Pruned")


def create_study(config: TuningJobConfig, storage_path: str | Path | None, study_name: str) -> optuna.Study:
    """Open (or create) the study of a tuning job, kept in a journal file.

    Calling it again with the same path and name, in this process or a restarted one,
    resumes the same study with every trial, report and result so far. With
    ``storage_path=None`` the study lives in memory only (one process, nothing to resume;
    the journal syncs every write to disk, which a quick experiment may not want).

    >>> study = create_study(config, tmp / "study.journal", "hpo-1")  # doctest: +SKIP
    >>> study.direction.name  # doctest: +SKIP
    'MINIMIZE'
    """
    import optuna

    storage: optuna.storages.BaseStorage | None = None
    if storage_path is not None:
        path = Path(storage_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    return optuna.create_study(
        storage=storage,
        study_name=study_name,
        sampler=_sampler(config),
        pruner=_pruner(config),
        direction="maximize" if config.objective.type == "Maximize" else "minimize",
        load_if_exists=True,
    )


def suggest(trial: optuna.Trial, config: TuningJobConfig) -> dict[str, str]:
    """The tuned hyperparameters for ``trial``, as strings (as SageMaker passes them).

    Static hyperparameters are not included: the orchestrator merges them in.

    >>> suggest(study.ask(), config)  # doctest: +SKIP
    {'eta': '0.0734', 'max_depth': '6', 'booster': 'gbtree'}
    """
    values = {dim.name: dim.suggest(trial) for dim in _dimensions(config)}
    trial.set_user_attr(HYPERPARAMETERS_ATTR, values)
    return values


def ask(study: optuna.Study, config: TuningJobConfig) -> tuple[int, dict[str, str]] | None:
    """Start a trial: its number and hyperparameters, or None once a Grid is exhausted.

    >>> ask(study, config)  # doctest: +SKIP
    (0, {'eta': '0.0734'})
    """
    if config.strategy == "Grid" and _grid_started(study) >= grid_size(config):
        return None
    trial = study.ask()
    return trial.number, suggest(trial, config)


def tell(study: optuna.Study, trial_number: int, value: float | None, state: str = "Completed") -> str:
    """Finish trial ``trial_number``; returns the state Optuna recorded.

    ``state`` is the training job's outcome: ``Completed`` (``value`` is the final objective;
    recorded as FAIL when it is missing or NaN, so the sampler ignores it), ``Pruned`` (stopped
    early by :func:`report`; Optuna keeps the last reported value), ``Failed`` or ``Stopped``
    (stopped by the user): both FAIL. Telling a finished trial again changes nothing, so a
    restarted orchestrator may repeat it.

    >>> tell(study, 0, 0.42)  # doctest: +SKIP
    'COMPLETE'
    """
    from optuna.trial import TrialState

    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    if state == "Completed" and value is not None and math.isfinite(value):
        frozen = study.tell(trial_number, float(value), state=TrialState.COMPLETE, skip_if_finished=True)
    elif state == "Pruned":
        frozen = study.tell(trial_number, state=TrialState.PRUNED, skip_if_finished=True)
    else:
        frozen = study.tell(trial_number, state=TrialState.FAIL, skip_if_finished=True)
    return frozen.state.name


def report(study: optuna.Study, trial_number: int, step: int, value: float) -> bool:
    """Record the objective of a running trial at ``step``; True when the job should stop.

    ``step`` is the resource used so far (the epoch, or iteration, the metric was emitted at);
    for Hyperband it is compared with MinResource / MaxResource, and a job at MaxResource is
    never stopped (it has used its whole budget; tell it Completed). Works on a study reopened
    in another process: the trial is rebuilt from the storage. Reports for a trial that is
    already finished are ignored (False). A step reported twice keeps its first value.

    >>> report(study, 3, step=5, value=0.91)  # doctest: +SKIP
    False
    """
    import optuna
    from optuna.trial import TrialState

    trial_id = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, trial_number)
    if study._storage.get_trial(trial_id).state != TrialState.RUNNING:
        return False
    trial = optuna.trial.Trial(study, trial_id)
    trial.report(float(value), int(step))
    return bool(trial.should_prune())


def seed_from_parents(study: optuna.Study, config: TuningJobConfig, parents: list[dict[str, Any]]) -> int:
    """Warm start: add the parent tuning jobs' completed trials to the study; returns how many.

    Each parent trial is ``{"hyperparameters": {name: str}, "objective": float | None,
    "status": "Completed" | ...}`` (optionally ``"training_job_name"``). A parent is used when
    it completed with a finite objective and gives a value inside the new range for every tuned
    hyperparameter (other hyperparameters it had are ignored); the rest are skipped. So with
    TransferLearning that adds a hyperparameter, the parents lacking it are skipped.
    Idempotent: a study already seeded answers the count it recorded. A Grid study is never
    seeded (it runs every combination anyway) and answers 0.

    >>> seed_from_parents(study, config, [{"hyperparameters": {"eta": "0.1"}, "objective": 0.3,
    ...                                     "status": "Completed"}])  # doctest: +SKIP
    1
    """
    import optuna
    from optuna.trial import TrialState

    done = study.user_attrs.get(WARM_START_STUDY_ATTR)
    if done is not None:
        return int(done["used"])
    if config.strategy == "Grid":
        return 0
    dims = _dimensions(config)
    distributions = {dim.key: dim.distribution() for dim in dims}
    trials = []
    for parent in parents:
        objective = parent.get("objective")
        if parent.get("status") != "Completed" or not _finite(objective):
            continue
        given = parent.get("hyperparameters") or {}
        params = {dim.key: dim.internal(given.get(dim.name)) for dim in dims}
        if any(v is None for v in params.values()):
            continue
        attrs: dict[str, Any] = {
            HYPERPARAMETERS_ATTR: {dim.name: str(given[dim.name]) for dim in dims},
            WARM_START_ATTR: True,
        }
        if parent.get("training_job_name"):
            attrs["training_job_name"] = parent["training_job_name"]
        trials.append(
            optuna.trial.create_trial(
                params=params, distributions=distributions, value=float(objective),
                user_attrs=attrs, state=TrialState.COMPLETE,
            )
        )
    study.add_trials(trials)
    study.set_user_attr(WARM_START_STUDY_ATTR, {"given": len(parents), "used": len(trials)})
    return len(trials)


def grid_size(config: TuningJobConfig) -> int:
    """How many combinations a Grid tuning job runs (product of the categorical values).

    >>> grid_size(config)  # doctest: +SKIP
    6
    """
    return config.parameter_ranges.grid_size()


def trial_summaries(study: optuna.Study) -> list[dict[str, Any]]:
    """Every trial of the study as ``{"number", "hyperparameters", "objective", "status",
    "warm_start", "intermediate_values"}``, in creation order; the input :func:`leaderboard`
    takes. ``status`` is Completed, Failed, Pruned or InProgress.
    """
    names = {"COMPLETE": "Completed", "FAIL": "Failed", "PRUNED": "Pruned", "RUNNING": "InProgress",
             "WAITING": "InProgress"}
    return [
        {
            "number": t.number,
            "hyperparameters": dict(t.user_attrs.get(HYPERPARAMETERS_ATTR, {})),
            "objective": t.value if t.state.name in ("COMPLETE", "PRUNED") else None,
            "status": names[t.state.name],
            "warm_start": bool(t.user_attrs.get(WARM_START_ATTR, False)),
            "intermediate_values": dict(t.intermediate_values),
        }
        for t in study.get_trials(deepcopy=False)
    ]


def leaderboard(trials: list[dict[str, Any]], objective_type: str) -> list[dict[str, Any]]:
    """Trials with a finite ``objective``, best first; ties keep creation order.

    Creation order is ``creation_time`` when every trial has one, else the order given.
    Trials without an objective, or whose ``status`` is Failed, are left out (as SageMaker
    leaves them out of a listing sorted by the final objective).

    >>> [t["name"] for t in leaderboard([{"name": "a", "objective": 0.2}, {"name": "b", "objective": 0.1},
    ...                                  {"name": "c", "objective": None}], "Minimize")]
    ['b', 'a']
    """
    if objective_type not in ("Maximize", "Minimize"):
        raise ValueError(f"objective_type must be Maximize or Minimize, got {objective_type!r}")
    sign = -1.0 if objective_type == "Maximize" else 1.0
    ranked = [t for t in trials if _finite(t.get("objective")) and t.get("status") != "Failed"]
    by_time = all(t.get("creation_time") is not None for t in ranked)
    order = {id(t): i for i, t in enumerate(ranked)}
    return sorted(
        ranked,
        key=lambda t: (sign * float(t["objective"]), t["creation_time"] if by_time else 0, order[id(t)]),
    )


def best(trials: list[dict[str, Any]], objective_type: str) -> dict[str, Any] | None:
    """The best trial of :func:`leaderboard`, or None when no trial has an objective.

    >>> best([{"objective": 0.2}, {"objective": 0.9}], "Maximize")
    {'objective': 0.9}
    """
    ranked = leaderboard(trials, objective_type)
    return ranked[0] if ranked else None


# --- search space ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dimension:
    """One tuned hyperparameter as Optuna sees it (``key``) and as the training job sees it."""

    name: str
    key: str
    kind: str  # "int" | "float" | "categorical"
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    reverse: bool = False  # ReverseLogarithmic: Optuna searches u = 1 - x
    choices: tuple[str, ...] = ()

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "categorical":
            return CategoricalDistribution(self.choices)
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)
        if self.reverse:
            return FloatDistribution(1.0 - self.high, 1.0 - self.low, log=True)
        return FloatDistribution(self.low, self.high, log=self.log)

    def suggest(self, trial: optuna.Trial) -> str:
        if self.kind == "categorical":
            return str(trial.suggest_categorical(self.key, list(self.choices)))
        if self.kind == "int":
            return str(trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log))
        if self.reverse:
            u = trial.suggest_float(self.key, 1.0 - self.high, 1.0 - self.low, log=True)
            # 1 - (1 - x) can land a rounding error outside the range; keep it inside.
            return repr(min(max(1.0 - u, self.low), self.high))
        return repr(trial.suggest_float(self.key, self.low, self.high, log=self.log))

    def internal(self, text: object) -> Any | None:
        """The Optuna value for a hyperparameter string, or None when it is not in the range."""
        if text is None:
            return None
        if self.kind == "categorical":
            return str(text) if str(text) in self.choices else None
        try:
            number = float(str(text).strip())
        except ValueError:
            return None
        if not math.isfinite(number) or not self.low <= number <= self.high:
            return None
        if self.kind == "int":
            return int(number) if number.is_integer() else None
        return 1.0 - number if self.reverse else number


def _dimensions(config: TuningJobConfig) -> list[_Dimension]:
    ranges = config.parameter_ranges
    names = set(ranges.names())
    dims = []
    for r in ranges.integer_parameter_ranges:
        log = config.strategy != "Grid" and _log_scale(r.scaling_type, r.min_value, r.max_value)
        dims.append(_Dimension(r.name, r.name, "int", r.min_value, r.max_value, log=log))
    for c in ranges.continuous_parameter_ranges:
        if c.scaling_type == "ReverseLogarithmic":
            key = _REVERSE_LOG_PREFIX + c.name
            while key in names:  # a user hyperparameter may already be called "1-<name>"
                key = _REVERSE_LOG_PREFIX + key
            dims.append(_Dimension(c.name, key, "float", c.min_value, c.max_value, reverse=True))
        else:
            log = _log_scale(c.scaling_type, c.min_value, c.max_value)
            dims.append(_Dimension(c.name, c.name, "float", c.min_value, c.max_value, log=log))
    for cat in ranges.categorical_parameter_ranges:
        dims.append(_Dimension(cat.name, cat.name, "categorical", choices=tuple(cat.values)))
    return dims


def _log_scale(scaling: str, low: float, high: float) -> bool:
    if scaling == "Logarithmic":
        return True
    return scaling == "Auto" and low > 0 and high / low >= AUTO_LOG_RATIO


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- samplers and pruners -------------------------------------------------------------------


def _sampler(config: TuningJobConfig) -> optuna.samplers.BaseSampler:
    tpe, random, grid = _sampler_classes()
    seed = config.random_seed
    if config.strategy == "Random":
        return random(seed=seed)
    if config.strategy == "Grid":
        space = {r.name: list(r.values) for r in config.parameter_ranges.categorical_parameter_ranges}
        return grid(space, seed=seed)
    budget = config.resource_limits.max_number_of_training_jobs or 1
    # Random exploration first (a third of the budget, at most Optuna's default of 10) so TPE
    # has something to model even in small tuning jobs. constant_liar keeps parallel jobs apart.
    return tpe(seed=seed, multivariate=True, constant_liar=True, n_startup_trials=max(1, min(10, budget // 3)))


def _pruner(config: TuningJobConfig) -> optuna.pruners.BasePruner:
    import optuna

    if config.strategy == "Hyperband":
        hb = config.hyperband
        assert hb is not None and hb.min_resource is not None and hb.max_resource is not None
        return _hyperband_class()(
            min_resource=hb.min_resource, max_resource=hb.max_resource, reduction_factor=HYPERBAND_REDUCTION_FACTOR
        )
    if config.training_job_early_stopping_type == "Auto":
        return optuna.pruners.MedianPruner(
            n_startup_trials=MEDIAN_STARTUP_TRIALS, n_warmup_steps=MEDIAN_WARMUP_STEPS, n_min_trials=MEDIAN_MIN_TRIALS
        )
    return optuna.pruners.NopPruner()


@cache
def _sampler_classes() -> tuple[type, type, type]:
    """Optuna's samplers, adapted to trials that live across processes (built once, lazily)."""
    import numpy as np
    import optuna

    def reseed(sampler: Any, base_seed: int | None, number: int) -> None:
        # Draws of trial N depend on (seed, N) only, not on how many trials this process saw.
        if base_seed is None:
            return
        seed = int(np.random.SeedSequence([base_seed, number]).generate_state(1)[0])
        for owner in (sampler, getattr(sampler, "_random_sampler", None)):
            state = getattr(owner, "_rng", None)
            if state is not None and hasattr(state, "rng"):
                state.rng.seed(seed)

    class TrialSeededTPESampler(optuna.samplers.TPESampler):
        def __init__(self, *, seed: int | None = None, **kwargs: Any) -> None:
            super().__init__(seed=seed, **kwargs)
            self._base_seed = seed

        def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            reseed(self, self._base_seed, trial.number)
            super().before_trial(study, trial)

    class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
        def __init__(self, seed: int | None = None) -> None:
            super().__init__(seed=seed)
            self._base_seed = seed

        def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            reseed(self, self._base_seed, trial.number)
            super().before_trial(study, trial)

    class AskTellGridSampler(optuna.samplers.GridSampler):
        def after_trial(
            self, study: optuna.Study, trial: optuna.trial.FrozenTrial, state: Any, values: Sequence[float] | None
        ) -> None:
            # GridSampler calls study.stop() here, which only works inside study.optimize();
            # with ask-and-tell, ask() stops handing out trials once every grid point started.
            return None

    return TrialSeededTPESampler, TrialSeededRandomSampler, AskTellGridSampler


@cache
def _hyperband_class() -> type:
    import optuna

    class FullBudgetHyperbandPruner(optuna.pruners.HyperbandPruner):
        """Hyperband that lets a job which reached MaxResource finish: SageMaker counts such a job
        as completed, and stopping it there would save nothing (Optuna's last rung sits at
        MaxResource and would otherwise mark it pruned)."""

        def __init__(self, *, min_resource: int, max_resource: int, reduction_factor: int) -> None:
            super().__init__(min_resource=min_resource, max_resource=max_resource, reduction_factor=reduction_factor)
            self._full_budget = max_resource

        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            step = trial.last_step
            if step is not None and step >= self._full_budget:
                return False
            return super().prune(study, trial)

    return FullBudgetHyperbandPruner


def _grid_started(study: optuna.Study) -> int:
    """How many distinct grid points have a trial (running or finished)."""
    return len({t.system_attrs["grid_id"] for t in study.get_trials(deepcopy=False) if "grid_id" in t.system_attrs})
