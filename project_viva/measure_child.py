"""Runs inside the contained runner (sandbox.process, bubblewrap where present), as `python -I -c`
with this file's text: it imports nothing of the app. It reads the plan (project_viva.plan) on
stdin, imports the learner's definitions-only modules, builds the model as their script does,
and prints one JSON object after MARK: parameters, the layer table (torchinfo), FLOPs
(FlopCounterMode), the learning rate of every epoch, and what could not be done and why.

Before any learner code runs, an audit hook refuses shell commands, new processes, network
connections and writes outside the working directory; each refusal is reported with the
learner's file and line."""

import contextlib
import importlib
import importlib.abc
import importlib.util
import json
import os
import sys
import time
import traceback
import types

MARK = "@@project-viva@@"
WORKDIR = os.getcwd()
ALWAYS_BLOCKED = ("os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "socket.connect",
                  "socket.bind", "socket.sendto", "socket.getaddrinfo", "os.kill", "os.killpg", "pty.spawn")  # fmt: skip
PATH_EVENTS = ("os.remove", "os.rmdir", "os.rename", "shutil.rmtree", "os.truncate", "os.chmod", "os.mkdir")
attempts = []
paths = {}  # runner module file -> the learner's path


def learner_line(frame):
    """The innermost frame in the learner's code at or above `frame`: 'models.py:12'."""
    while frame is not None:
        path = paths.get(frame.f_code.co_filename)
        if path:
            return f"{path}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


def audit(event, args):
    if event in ALWAYS_BLOCKED or (event == "open" and _writes_outside(args)) or (event in PATH_EVENTS and _outside(args)):
        caller = sys._getframe(1)
        attempts.append({
            "event": event, "where": learner_line(caller), "detail": str(args[0])[:120] if args else "",
            "direct": caller.f_code.co_filename in paths,  # the learner's own line did it, not a library it called
        })  # fmt: skip
        raise PermissionError(f"blocked by the project analyser: {event}")


def _outside(args):
    return any(isinstance(a, str | bytes) and not os.path.abspath(os.fsdecode(a)).startswith(WORKDIR) for a in args[:2])


def _writes_outside(args):
    path, mode = args[0], args[1] if len(args) > 1 else "r"
    if isinstance(mode, int) or mode is None:
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        writing = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC))
    else:
        writing = any(c in mode for c in "wax+")
    return writing and isinstance(path, str | bytes) and not os.path.abspath(os.fsdecode(path)).startswith(WORKDIR)


class LearnerModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the learner's modules from their definitions-only text, statement by statement:
    one that fails (a name only the script's top level would have set) is skipped, not fatal."""

    def __init__(self, modules, packages):
        self.modules, self.packages = modules, set(packages)
        self.failures = []

    def find_spec(self, name, path=None, target=None):
        if name not in self.modules:
            return None
        origin = os.path.join(WORKDIR, "learner", name.replace(".", "/") + ("/__init__.py" if name in self.packages else ".py"))
        spec = importlib.util.spec_from_loader(name, self, origin=origin, is_package=name in self.packages)
        spec.has_location = True
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        import ast

        name = module.__spec__.name
        module.__file__ = module.__spec__.origin
        if name in self.packages:
            module.__path__ = []
        tree = ast.parse(self.modules[name])
        for statement in tree.body:
            code = compile(ast.Module(body=[statement], type_ignores=[]), module.__file__, "exec")
            try:
                exec(code, module.__dict__)
            except Exception as error:  # a refused call included: that statement is skipped, the rest still defines
                where = f"{paths.get(module.__file__, name)}:{statement.lineno}"
                self.failures.append(f"{where}: {type(error).__name__}: {str(error)[:160]}")


class Stubs(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """A stand-in for any library that is not installed here (wandb, tensorboardX...), so that
    importing the learner's model file does not fail on a logging import."""

    def __init__(self):
        self.names = []

    def find_spec(self, name, path=None, target=None):
        if not _imported_by_learner():
            return None  # torch's own optional imports must keep failing as they expect
        self.names.append(name)
        return importlib.util.spec_from_loader(name, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda attr: _Stub(f"{spec.name}.{attr}")
        return module

    def exec_module(self, module):
        return None


def _imported_by_learner():
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
        frame = frame.f_back
    while frame is not None and "importlib" in frame.f_code.co_filename:
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename in paths


class _Stub:
    def __init__(self, name):
        self._name = name

    def __call__(self, *args, **kwargs):
        return _Stub(self._name + "()")

    def __getattr__(self, attr):
        return _Stub(f"{self._name}.{attr}")

    def __mro_entries__(self, bases):
        return (object,)


def _ext(name):
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            value = getattr(value, attr)
        return value
    raise ImportError(f"cannot import {name}")


def _project(module, name):
    return getattr(importlib.import_module(module), name)


def _module(module):
    return importlib.import_module(module)


def no_downloads(torch):
    """Pretrained weights are never fetched: a model is measured with random weights, which have
    the same shapes. torchvision's weight loading is made to hand back nothing, and loading
    nothing is a no-op."""
    original = torch.nn.Module.load_state_dict

    def load_state_dict(self, state_dict, *args, **kwargs):
        if state_dict is None:
            return None
        return original(self, state_dict, *args, **kwargs)

    torch.nn.Module.load_state_dict = load_state_dict
    if "torchvision" in sys.modules:
        from torchvision.models import _api

        _api.WeightsEnum.get_state_dict = lambda self, *args, **kwargs: None
    torch.hub.load_state_dict_from_url = lambda *args, **kwargs: None


def measure_model(torch, model, shape, out):
    def trainable(m):
        seen, total = set(), 0
        for p in m.parameters():
            if p.requires_grad and id(p) not in seen:
                seen.add(id(p))
                total += p.numel()
        return total

    out["params"] = trainable(model)
    out["params_total"] = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    out["model_class"] = type(model).__name__
    kinds = {type(m).__name__ for m in model.modules()}
    out["uses_batchnorm"] = any(k.startswith(("BatchNorm", "SyncBatchNorm")) for k in kinds)
    out["uses_dropout"] = any(k.startswith(("Dropout", "AlphaDropout")) for k in kinds)
    model.eval()
    x = torch.zeros(*shape)
    try:
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            y = model(x)
        out["flops"] = int(counter.get_total_flops())
        out["output_shape"] = list(y.shape) if hasattr(y, "shape") else None
    except Exception as error:
        out["unmeasured"].append(f"forward pass on a {'x'.join(map(str, shape))} input failed: {type(error).__name__}: {str(error)[:200]}")
        return
    layer_table(model, shape, out)


def layer_table(model, shape, out):
    try:
        import torchinfo

        stats = torchinfo.summary(model, input_size=tuple(shape), verbose=0, depth=4, mode="eval", col_names=("output_size", "num_params"))
    except Exception as error:
        out["unmeasured"].append(f"layer table: torchinfo failed ({type(error).__name__}: {str(error)[:160]})")
        return
    rows = []
    paths = {id(module): name for name, module in model.named_modules()}  # layer4.1.conv2, not just conv2
    for layer in stats.summary_list[:400]:
        rows.append({
            "name": layer.var_name or layer.class_name, "path": paths.get(id(layer.module), "") or layer.class_name,
            "type": layer.class_name, "depth": layer.depth,
            "output_shape": list(layer.output_size) if layer.output_size else [],
            "params": int(layer.num_params) if not layer.is_recursive else 0,
            "trainable": int(layer.trainable_params) if not layer.is_recursive and layer.trainable_params else 0,
            "leaf": not layer.children,
        })  # fmt: skip
    out["layers"] = rows


def simulate_lr(torch, plan, namespace, out):
    first, stop, stride = plan["epochs"]
    p = torch.nn.Parameter(torch.zeros(1))
    namespace["_p"] = p
    namespace["_params"] = lambda groups: [{**g, "params": [torch.nn.Parameter(torch.zeros(1))]} for g in groups]
    namespace["epoch"] = first
    optimizer = eval(plan["optimizer"], namespace)
    namespace["optimizer"] = optimizer
    scheduler = eval(plan["scheduler"], namespace) if plan["scheduler"] else None
    namespace["scheduler"] = scheduler
    per_epoch, per_batch = [], []
    batches = plan["steps_per_epoch"] or 1

    def lr():
        return float(optimizer.param_groups[0]["lr"])

    def step():
        if scheduler is not None and plan["stepped"] is not None:
            if plan["step_args"] and type(scheduler).__name__ == "ReduceLROnPlateau":
                scheduler.step(float("inf") if scheduler.mode == "min" else float("-inf"))
            else:
                scheduler.step()

    for epoch in range(first, stop, stride):
        namespace["epoch"] = epoch
        if plan.get("rebuild_optimizer"):  # a new optimizer each epoch, its lr computed from the epoch
            optimizer = eval(plan["optimizer"], namespace)
            namespace["optimizer"] = optimizer
        for hook in plan["hooks"]:
            eval(hook, namespace)
        if plan["step_first"] and plan["stepped"] == "per_epoch":
            step()
        per_epoch.append(lr())
        if plan["stepped"] == "per_batch":
            for _ in range(batches):
                per_batch.append(lr())
                step()
        elif not plan["step_first"]:
            step()
    out["lr_by_epoch"] = per_epoch
    out["lr_by_batch"] = per_batch[:: max(1, len(per_batch) // 2000)] if per_batch else []
    out["lr_by_batch_stride"] = max(1, len(per_batch) // 2000) if per_batch else 0


def main():
    sys.dont_write_bytecode = True
    plan = json.loads(sys.stdin.read())
    out = {"unmeasured": [], "blocked": attempts, "import_failures": []}
    source_root = os.path.join(WORKDIR, "learner")
    for name, path in plan["paths"].items():
        file = os.path.join(source_root, name.replace(".", "/") + ("/__init__.py" if name in plan["packages"] else ".py"))
        paths[file] = path
    import torch

    torch.set_num_threads(1)
    if "torchvision" in json.dumps(plan):  # 1-2 s of import: only when the learner's code or the model needs it
        with contextlib.suppress(ImportError):
            import torchvision  # noqa: F401  (first, so its pretrained-weight loading is switched off below)
    import torchinfo  # noqa: F401
    from torch.utils.flop_counter import FlopCounterMode  # noqa: F401

    no_downloads(torch)
    learner = LearnerModules(plan["modules"], plan["packages"])
    sys.meta_path.insert(0, learner)
    stubs = Stubs()
    sys.meta_path.append(stubs)
    sys.addaudithook(audit)
    namespace = {"_ext": _ext, "_project": _project, "_module": _module, "_ns": types.SimpleNamespace, "torch": torch, "nn": torch.nn}
    if plan["model"]:
        try:
            model = eval(plan["model"], namespace)
            namespace["model"] = model
            for source, where in plan["post"]:
                try:
                    exec(source, namespace)
                except Exception as error:
                    out["unmeasured"].append(f"{where}: {source[:80]} failed here ({type(error).__name__}: {str(error)[:120]})")
            measure_model(torch, namespace["model"], plan["input_shape"], out)
        except Exception as error:
            frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename in paths]
            where = f"{paths[frames[-1].filename]}:{frames[-1].lineno}: " if frames else ""
            out["unmeasured"].append(f"model: not measured, building it failed ({where}{type(error).__name__}: {str(error)[:200]})")
    if plan["optimizer"] and plan["epochs"]:
        try:
            simulate_lr(torch, plan, namespace, out)
        except Exception as error:
            out["unmeasured"].append(f"learning rate by epoch: the simulation failed ({type(error).__name__}: {str(error)[:200]})")
    out["import_failures"] = learner.failures[:20]
    out["stubbed"] = sorted({n.split(".")[0] for n in stubs.names})
    out["cpu_seconds"] = time.process_time()  # the whole run, torch's import included: what a learner waits for, load aside
    sys.stdout.write(MARK + json.dumps(out) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
