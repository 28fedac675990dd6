"""训练微调 Train: validate a dataset folder, train in the background, watch, switch weights.

The trainer (``models.train``) runs as the server's one background job; a timer polls its
events into a loss plot, an hmean plot and a log tail, so the page can be closed and
reopened while training goes on.

Serving the result is two clicks: "use the new weights" (offered only for a run that
finished) scores the served model on the run's validation images and shows both hmeans;
"confirm" swaps the weights for every user. "Revert" serves the released weights again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

import gradio as gr
import pandas as pd

from app.io.dataset_folders import find_datasets
from app.web import wording as W
from app.web.context import WebContext
from app.web.guards import friendly_errors, resolve_allowed, user_error
from app.web.jobs import JobSnapshot
from app.web.runs import RunOutcome, outcome_from_events, served_hmean
from models import DetectorConfig, TextDetector
from models.data.icdar import validate_dataset
from models.settings import bounds_text, meta_of, value_problem
from models.train import TrainConfig, Trainer

from .common import api_example, number, slider

POLL_S = 2.0
LOG_LINES = 40
SHOWN_SETTINGS = ("batch_size", "epochs", "lr", "optimizer", "input_size", "init_weights")


@dataclass
class TrainTab:
    dataset: gr.Textbox
    check: gr.Button
    datasets: gr.Dropdown
    finetune: gr.Button
    batch_size: gr.Slider
    epochs: gr.Slider
    lr: gr.Number
    from_current: gr.Checkbox
    start: gr.Button
    cancel: gr.Button
    use_new: gr.Button
    confirm: gr.Button
    revert: gr.Button
    swap_info: gr.Markdown
    pending: gr.State
    status: gr.Markdown
    loss_plot: gr.LinePlot
    hmean_plot: gr.LinePlot
    log: gr.Textbox
    timer: gr.Timer


def render(ctx: WebContext) -> TrainTab:
    roots = ", ".join(f"`{r}`" for r in ctx.settings.storage.allowed_roots) or W.NO_ALLOWED_ROOTS
    with gr.Row():
        with gr.Column(scale=1):
            dataset = api_example(gr.Textbox(label=W.DATASET, placeholder="/data/icdar2015",
                                             info=W.DATASET_INFO.format(roots=roots),
                                             elem_id="train-dataset"), "/data/icdar2015")
            check = gr.Button(W.CHECK_DATASET, size="sm")
            with gr.Group():
                datasets = gr.Dropdown(dataset_choices(ctx), value=None, label=W.DATASETS_FOUND,
                                       info=W.DATASETS_FOUND_INFO, elem_id="train-datasets")
                finetune = gr.Button(W.FINETUNE, size="sm", elem_id="train-finetune")
            batch_size = slider(TrainConfig, "batch_size", W.BATCH_SIZE, elem_id="train-batch")
            epochs = slider(TrainConfig, "epochs", W.EPOCHS, elem_id="train-epochs")
            lr = number(TrainConfig, "lr", W.LEARNING_RATE)
            from_current = gr.Checkbox(ctx.service.ready, label=W.FROM_CURRENT,
                                       info=W.FROM_CURRENT_INFO)
            with gr.Row():
                start = gr.Button(W.START_TRAINING, variant="primary", elem_id="train-start")
                cancel = gr.Button(W.CANCEL, variant="stop", elem_id="train-cancel")
            use_new = gr.Button(W.USE_NEW_WEIGHTS, interactive=False, elem_id="train-use")
            swap_info = gr.Markdown("", label=W.LABEL_SWAP, elem_id="train-swap")
            confirm = gr.Button(W.CONFIRM_SWAP, variant="stop", visible=False, elem_id="train-confirm")
            revert = gr.Button(W.REVERT, interactive=ctx.service.can_revert, elem_id="train-revert")
            pending = gr.State(None)
        with gr.Column(scale=2):
            status = gr.Markdown(W.NO_TRAINING_JOB, label=W.LABEL_DATASET_STATUS, elem_id="train-status")
            with gr.Row():
                loss_plot = gr.LinePlot(_frame([], "loss"), x="step", y="loss", title=W.LOSS, label=W.LOSS,
                                        height=260, elem_id="train-loss")
                hmean_plot = gr.LinePlot(_frame([], "hmean"), x="step", y="hmean", color="source", title="Hmean (test)", label="Hmean (test)",
                                         y_lim=[0, 1], height=260)
            log = gr.Textbox(label=W.LOG, lines=10, max_lines=10, autoscroll=True, interactive=False)
    timer = gr.Timer(POLL_S, active=False)
    return TrainTab(dataset, check, datasets, finetune, batch_size, epochs, lr, from_current, start, cancel, use_new, confirm, revert,
                    swap_info, pending, status, loss_plot, hmean_plot, log, timer)


def dataset_choices(ctx: WebContext) -> List[str]:
    """The dataset folders in the allowed roots (those made with "Add to dataset" included)."""
    return [str(p) for p in find_datasets(ctx.settings.storage.allowed_roots)]


def listed_datasets(ctx: WebContext) -> gr.Dropdown:
    """The list again (on page load and each time the tab is opened: datasets grow meanwhile)."""
    return gr.Dropdown(choices=dataset_choices(ctx))


# ---------------------------------------------------------------------- rendering events
def _frame(events: List[Dict[str, Any]], kind: str) -> pd.DataFrame:
    if kind == "loss":
        rows = [(e["step"], e["loss"]) for e in events if e.get("type") == "step" and "loss" in e]
        return pd.DataFrame(rows, columns=["step", "loss"])
    # One line per validation source (and their mean) when the run mixes several sources.
    rows = []
    for e in events:
        if e.get("type") != "eval" or "hmean" not in e:
            continue
        per_source = e.get("per_source") or {}
        rows.append((e["step"], e["hmean"], "mean of sources" if per_source else "validation"))
        rows.extend((e["step"], m["hmean"], name) for name, m in per_source.items())
    return pd.DataFrame(rows, columns=["step", "hmean", "source"])


def format_event(e: Dict[str, Any]) -> str:
    kind = e.get("type")
    if kind == "step":
        return W.LOG_STEP.format(epoch=e.get("epoch"), step=e.get("step"), total=e.get("total_steps"),
                                 loss=e.get("loss", float("nan")), lr=e.get("lr", 0))
    if kind == "eval":
        return W.LOG_EVAL.format(step=e.get("step"), epoch=e.get("epoch"), precision=e.get("precision", 0),
                                 recall=e.get("recall", 0), hmean=e.get("hmean", 0),
                                 best=W.LOG_BEST if e.get("best") else "")
    if kind == "done":
        return W.LOG_DONE.format(step=e.get("step"), best=e.get("best_weights"), last=e.get("last_weights"))
    if kind == "config":
        c = e.get("config") or {}
        return W.LOG_SETTINGS.format(settings=", ".join(f"{k} {c[k]}" for k in SHOWN_SETTINGS if k in c))
    if kind == "phase" and e.get("phase") in W.PHASE and e.get("phase") != "train":
        return f"{W.PHASE[e['phase']]}: {e.get('message', '')}"
    return str(e.get("message", e))


def outcome(snap: JobSnapshot | None) -> RunOutcome | None:
    """What the last run offers for serving (None while none ran or one runs)."""
    if snap is None or snap.running:
        return None
    return outcome_from_events(snap.events, snap.state)


def new_weights(snap: JobSnapshot | None) -> Path | None:
    """Weights of the last run if it finished (best checkpoint, else last weights); None
    for a cancelled, failed or running one."""
    run = outcome(snap)
    return run.weights if run is not None and run.servable else None


def _offer(run: RunOutcome | None) -> str:
    if run is None:
        return ""
    if not run.servable:
        return W.SWAP_NOT_OFFERED.format(reason=run.problem)
    which = W.WHICH.get(run.which, run.which)
    if run.hmean is None:
        return W.SWAP_OFFER_NO_VAL.format(which=which, path=run.weights)
    return W.SWAP_OFFER.format(which=which, path=run.weights, hmean=f"{run.hmean:.4f}")


def _last(events: List[Dict[str, Any]], kind: str) -> Dict[str, Any] | None:
    return next((e for e in reversed(events) if e.get("type") == kind), None)


def _plan(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The trainer's ``phase: train`` record (steps, batch size, log interval, validation)."""
    return next((e for e in reversed(events) if e.get("phase") == "train"), {})


def _next_logged_step(step: Dict[str, Any], plan: Dict[str, Any]) -> int:
    """The step of the trainer's next step record (every ``log_every`` steps and the last)."""
    every = int(plan.get("log_every") or 1)
    return min(int(step.get("total_steps") or step["step"]), (step["step"] // every + 1) * every)


def _next_update_s(events: List[Dict[str, Any]], now: float) -> int | None:
    """Seconds until the trainer's next logged step, from the last measured speed."""
    step, plan = _last(events, "step"), _plan(events)
    if not step or not plan or not step.get("images_per_s"):
        return None
    per_step = float(plan.get("batch_size") or 1) / float(step["images_per_s"])
    left = (_next_logged_step(step, plan) - step["step"]) * per_step - (now - float(step.get("time", now)))
    return max(1, round(left))


def _progress(snap: JobSnapshot, now: float) -> str:
    """Where a run is: a preparation phase (from the first second), then step k of n with
    the time to the next update, or validation in progress."""
    step, phase = _last(snap.events, "step"), _last(snap.events, "phase")
    text = "" if step is None else W.STEP_OF.format(step=step["step"], total=step.get("total_steps"),
                                                    loss=step.get("loss", 0))
    if phase and snap.running and (step is None or phase.get("time", 0) > step.get("time", 0)) \
            and phase.get("phase") in W.PHASE:
        return text + W.PREPARING.format(phase=W.PHASE[phase["phase"]], seconds=int(now - phase.get("time", now)))
    wait = _next_update_s(snap.events, now) if step is not None and snap.running else None
    return text + (W.NEXT_UPDATE.format(seconds=wait) if wait is not None else "")


def _status(snap: JobSnapshot | None) -> str:
    if snap is None:
        return W.NO_TRAINING_JOB
    mins, secs = divmod(int(snap.elapsed_s), 60)
    line = f"**{W.STATE_LABEL.get(snap.state, snap.state)}** · {snap.name} · {mins} min {secs:02d} s"
    line += _progress(snap, time.time())
    if snap.error:
        line += W.JOB_ERROR.format(error=snap.error)
    return line + _offer(outcome(snap))


def _loss_caption(events: List[Dict[str, Any]]) -> str | None:
    """A line plot draws nothing for one point, so the first loss is also said in words."""
    steps = [e for e in events if e.get("type") == "step" and "loss" in e]
    if not steps:
        return None
    last = steps[-1]
    if len(steps) == 1:
        nxt = _next_logged_step(last, _plan(events))
        return W.LOSS_ONE_POINT.format(step=last["step"], loss=last["loss"], next=f"step {nxt}")
    return W.LOSS_LATEST.format(step=last["step"], loss=last["loss"])


def _hmean_caption(events: List[Dict[str, Any]]) -> str | None:
    """Why the hmean plot is empty: no test split, or no validation yet (and when)."""
    if any(e.get("type") == "eval" for e in events):
        return None
    plan = _plan(events)
    if not plan:
        return None
    if not plan.get("val_images"):
        return W.NO_TEST_SPLIT
    return W.FIRST_VALIDATION.format(step=plan.get("first_eval_step"), images=plan["val_images"])


def refresh(ctx: WebContext, timer: bool = True) -> Tuple[Any, ...]:
    """What the watch widgets show now; ``timer=False`` leaves the timer out (the
    train_start endpoint's outputs, which API users read, carry no timer)."""
    snap = ctx.jobs.snapshot()
    events = snap.events if snap else []
    log = "\n".join(format_event(e) for e in events[-LOG_LINES:])
    loss = gr.LinePlot(_frame(events, "loss"), caption=_loss_caption(events))
    hmean = gr.LinePlot(_frame(events, "hmean"), caption=_hmean_caption(events))
    ticking = (gr.Timer(active=bool(snap and snap.running)),) if timer else ()
    return (_status(snap), loss, hmean, log, *ticking, gr.Button(interactive=new_weights(snap) is not None))


# ---------------------------------------------------------------------- actions
def check_dataset(ctx: WebContext, folder: str) -> Tuple[Path, Any]:
    """(resolved folder, summary) or a ``ValueError``/``DatasetError`` naming the exact problem."""
    root = resolve_allowed(folder, ctx.settings.storage.allowed_roots, "dataset folder")
    return root, validate_dataset(root)


def finetune_batch(ctx: WebContext, folder: str, batch_size: float) -> int:
    """The batch size for a one-click fine-tune: the tab's, but never more than the training
    images (a dataset of a few corrected pictures must train, not fail)."""
    _, summary = check_dataset(ctx, folder)
    return max(1, min(int(batch_size), int(summary.splits.get("train", 1))))


def start_training(ctx: WebContext, folder: str, batch_size: float, epochs: float, lr: float,
                   from_current: bool) -> str:
    root, summary = check_dataset(ctx, folder)
    if lr is None or value_problem("lr", float(lr), meta_of(TrainConfig, "lr")):
        raise ValueError(W.BAD_LEARNING_RATE.format(bounds=bounds_text(meta_of(TrainConfig, "lr")), lr=lr))
    init = str(ctx.service.require_weights()) if from_current else None
    run = time.strftime("run_%Y%m%d_%H%M%S")
    cfg = TrainConfig(data=str(root), epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
                      workdir=str(ctx.settings.storage.workdir_root / run), init_weights=init,
                      device=ctx.settings.model.device)
    cfg.validate()

    def target(emit, cancel):
        return Trainer(cfg, progress=emit, cancel=cancel).fit()

    ctx.jobs.start(W.TRAINING_JOB.format(run=run), target)
    return W.TRAINING_STARTED.format(summary=summary, workdir=cfg.workdir)


def listen(ctx: WebContext, ui: TrainTab, banner: gr.Markdown, demo: gr.Blocks) -> None:
    """``banner`` shows the served model (updated on switch); ``demo.load`` resumes watching."""
    watch = [ui.status, ui.loss_plot, ui.hmean_plot, ui.log, ui.timer, ui.use_new]

    @friendly_errors
    def on_check(folder):
        try:
            _, summary = check_dataset(ctx, folder)
        except gr.Error:
            raise
        except Exception as exc:   # the exact problem, shown in place rather than as a toast
            return W.DATASET_PROBLEM.format(error=exc)
        return W.DATASET_OK.format(summary=summary)

    @friendly_errors
    def on_start(folder, batch_size, epochs, lr, from_current):
        gr.Info(start_training(ctx, folder, batch_size, epochs, lr, from_current))
        return refresh(ctx, timer=False)

    @friendly_errors
    def on_pick(folder):
        """A listed dataset goes into the folder box and is checked at once."""
        return (folder, on_check(folder)) if folder else (gr.skip(), gr.skip())

    @friendly_errors
    def on_finetune(folder, batch_size, epochs, lr):
        """One click: train the listed dataset from the served weights with the settings above."""
        if not folder:
            raise user_error(W.NO_DATASET_PICKED)
        return (folder, *on_start(folder, finetune_batch(ctx, folder, batch_size), epochs, lr, True))

    def on_cancel():
        if ctx.jobs.cancel():
            gr.Info(W.CANCELLING_TRAINING)
        else:
            gr.Info(W.NO_TRAINING_RUNNING)

    scored: Dict[Tuple[str, str], Dict[str, Any] | None] = {}   # (served model, run) -> served model's scores

    def compare(run: RunOutcome) -> str:
        """Both hmeans on the run's validation images: the run's from its log, the served
        model's now (PyTorch fp32 and default thresholds, as the trainer's evaluations)."""
        which = W.WHICH.get(run.which, run.which)
        if not ctx.service.ready:
            return W.SWAP_COMPARE_NOTHING_SERVED.format(new=run.weights, which=which)
        if run.hmean is None:
            return W.SWAP_COMPARE_NO_VAL.format(new=run.weights, which=which)
        key = (str(ctx.service.model_id), str(run.workdir))
        if key not in scored:
            det = TextDetector(DetectorConfig(), weights=ctx.service.weights_path, device=ctx.service.device,
                               backend="torch")
            scored[key] = served_hmean(det, run)
        served = scored[key]
        if served is None:
            return W.SWAP_COMPARE_NO_VAL.format(new=run.weights, which=which)
        return W.SWAP_COMPARE.format(
            images=served.get("images", run.val_images), new=run.weights, which=which,
            step=W.SWAP_STEP.format(step=run.eval_step) if run.eval_step is not None else "",
            new_hmean=run.hmean, served=ctx.service.model_id, served_hmean=served["hmean"],
            precision=served["precision"], recall=served["recall"],
            verdict=W.SWAP_WORSE if run.hmean < served["hmean"] else "")

    @friendly_errors
    def on_use_new():
        run = outcome(ctx.jobs.snapshot())
        if run is None or not run.servable:
            raise user_error(run.problem if run is not None and run.problem else W.NO_NEW_WEIGHTS)
        return compare(run), gr.Button(visible=True), str(run.weights)

    @friendly_errors
    def on_confirm(pending):
        run = outcome(ctx.jobs.snapshot())
        if not pending or run is None or not run.servable or str(run.weights) != pending:
            raise user_error(W.NO_NEW_WEIGHTS)
        model_id = ctx.service.use_weights(pending)
        gr.Info(W.NOW_SERVING.format(model=model_id))
        return (ctx.service.banner(), W.NOW_SERVING.format(model=model_id), gr.Button(visible=False), None,
                gr.Button(interactive=ctx.service.can_revert))

    @friendly_errors
    def on_revert():
        model_id = ctx.service.revert()
        gr.Info(W.REVERTED.format(model=model_id))
        return (ctx.service.banner(), W.REVERTED.format(model=model_id), gr.Button(visible=False), None,
                gr.Button(interactive=ctx.service.can_revert))

    cheap = dict(concurrency_limit=None, show_progress="hidden")
    ui.check.click(on_check, [ui.dataset], [ui.status], api_name="check_dataset", **cheap)
    ui.start.click(on_start, [ui.dataset, ui.batch_size, ui.epochs, ui.lr, ui.from_current],
                   [w for w in watch if w is not ui.timer], api_name="train_start", concurrency_limit=None).success(
        lambda: gr.Timer(active=True), None, ui.timer, api_visibility="private", queue=False)
    ui.datasets.input(on_pick, [ui.datasets], [ui.dataset, ui.status], api_visibility="private", **cheap)
    ui.finetune.click(on_finetune, [ui.datasets, ui.batch_size, ui.epochs, ui.lr],
                      [ui.dataset, *[w for w in watch if w is not ui.timer]], api_visibility="private",
                      concurrency_limit=None).success(
        lambda: gr.Timer(active=True), None, ui.timer, api_visibility="private", queue=False)
    ui.cancel.click(on_cancel, None, None, api_name="train_cancel", **cheap)
    ui.timer.tick(lambda: refresh(ctx), None, watch, api_visibility="private", **cheap)
    swap = [banner, ui.swap_info, ui.confirm, ui.pending, ui.revert]
    ui.use_new.click(on_use_new, None, [ui.swap_info, ui.confirm, ui.pending], api_name="use_new_weights",
                     concurrency_limit=1)
    ui.confirm.click(on_confirm, [ui.pending], swap, api_name="confirm_new_weights", **cheap)
    ui.revert.click(on_revert, None, swap, api_name="revert_weights", **cheap)
    demo.load(lambda: refresh(ctx), None, watch, api_visibility="private", **cheap)
    demo.load(lambda: gr.Button(interactive=ctx.service.can_revert), None, [ui.revert],
              api_visibility="private", **cheap)
    demo.load(lambda: listed_datasets(ctx), None, [ui.datasets], api_visibility="private", **cheap)

