"""Solutions written as learners write them, for every exercise: wrong ones that are not among
the exercise's declared mistakes (the slips students make), each with a phrase the failing
check's message must contain, and correct ones written differently from the reference, which
must pass. Written against the prompts, before looking at what the checks' cases are."""

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Attempt:
    exercise: str
    label: str
    code: str
    named_by: str | None  # None: a correct solution, which must pass


def wrong(exercise: str, label: str, named_by: str, code: str) -> Attempt:
    return Attempt(exercise, label, dedent(code).strip("\n") + "\n", named_by)


def right(exercise: str, label: str, code: str) -> Attempt:
    return Attempt(exercise, label, dedent(code).strip("\n") + "\n", None)


ATTEMPTS: list[Attempt] = [
    # ---------------------------------------------------------------- train-step
    wrong(
        "train-step",
        "returns the loss tensor",
        "`.item()`",
        """
        def train_step(model, images, labels, criterion, optimizer):
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            return loss
    """,
    ),
    wrong(
        "train-step",
        "zero_grad between backward and step",
        "zero_grad() goes before backward()",
        """
        def train_step(model, images, labels, criterion, optimizer):
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.zero_grad()
            optimizer.step()
            return loss.item()
    """,
    ),
    wrong(
        "train-step",
        "updates the weights by hand",
        "outside optimizer.step()",
        """
        import torch

        def train_step(model, images, labels, criterion, optimizer):
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= 0.05 * p.grad
            return loss.item()
    """,
    ),
    wrong(
        "train-step",
        "ignores the criterion it is given",
        "use the criterion you are given",
        """
        import torch.nn.functional as F

        def train_step(model, images, labels, criterion, optimizer):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            return loss.item()
    """,
    ),
    wrong(
        "train-step",
        "returns the loss after the update",
        "before optimizer.step()",
        """
        def train_step(model, images, labels, criterion, optimizer):
            optimizer.zero_grad()
            criterion(model(images), labels).backward()
            optimizer.step()
            return criterion(model(images), labels).item()
    """,
    ),
    wrong(
        "train-step",
        "switches to eval mode",
        "out of train mode",
        """
        def train_step(model, images, labels, criterion, optimizer):
            model.eval()
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            return loss.item()
    """,
    ),
    right(
        "train-step",
        "zero_grad after the step",
        """
        def train_step(model, images, labels, criterion, optimizer):
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return float(loss)
    """,
    ),
    right(
        "train-step",
        "model.zero_grad and set_to_none",
        """
        def train_step(model, images, labels, criterion, optimizer):
            model.train()
            model.zero_grad(set_to_none=True)
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            return loss.detach().item()
    """,
    ),
    # ---------------------------------------------------------------- evaluate
    wrong(
        "evaluate",
        "averages the batch means",
        "mean of the batch means",
        """
        import torch
        from torch import nn

        def evaluate(model, loader):
            model.eval()
            criterion = nn.CrossEntropyLoss()
            losses, accs = [], []
            with torch.no_grad():
                for images, labels in loader:
                    out = model(images)
                    losses.append(criterion(out, labels).item())
                    accs.append((out.argmax(1) == labels).float().mean().item())
            return sum(losses) / len(losses), sum(accs) / len(accs)
    """,
    ),
    wrong(
        "evaluate",
        "accuracy in percent",
        "percentage",
        """
        import torch
        from torch import nn

        def evaluate(model, loader):
            model.eval()
            total, correct, n = 0.0, 0, 0
            with torch.no_grad():
                for x, y in loader:
                    out = model(x)
                    total += nn.functional.cross_entropy(out, y, reduction="sum").item()
                    correct += (out.argmax(1) == y).sum().item()
                    n += y.size(0)
            return total / n, 100.0 * correct / n
    """,
    ),
    wrong(
        "evaluate",
        "returns tensors",
        "return a Python float",
        """
        import torch
        from torch import nn

        def evaluate(model, loader):
            model.eval()
            total, correct, n = 0.0, 0, 0
            with torch.no_grad():
                for x, y in loader:
                    out = model(x)
                    total = total + nn.functional.cross_entropy(out, y, reduction="sum")
                    correct = correct + (out.argmax(1) == y).sum()
                    n += len(y)
            return total / n, correct / n
    """,
    ),
    wrong(
        "evaluate",
        "divides by the number of batches",
        "over samples",
        """
        import torch
        from torch import nn

        def evaluate(model, loader):
            model.eval()
            total, correct = 0.0, 0
            with torch.no_grad():
                for x, y in loader:
                    out = model(x)
                    total += nn.functional.cross_entropy(out, y, reduction="sum").item()
                    correct += (out.argmax(1) == y).sum().item()
            return total / len(loader.dataset), correct / len(loader)
    """,
    ),
    right(
        "evaluate",
        "mean loss times batch size, inference_mode",
        """
        import torch
        from torch import nn

        def evaluate(model, loader):
            model.eval()
            criterion = nn.CrossEntropyLoss()
            loss_sum, hits, count = 0.0, 0, 0
            with torch.inference_mode():
                for images, labels in loader:
                    logits = model(images)
                    loss_sum += criterion(logits, labels).item() * labels.shape[0]
                    hits += logits.argmax(dim=1).eq(labels).sum().item()
                    count += labels.shape[0]
            return loss_sum / count, hits / count
    """,
    ),
    right(
        "evaluate",
        "len(loader.dataset) and a decorator",
        """
        import torch
        import torch.nn.functional as F

        @torch.no_grad()
        def evaluate(model, loader):
            model.eval()
            total_loss = 0.0
            correct = 0
            for images, labels in loader:
                out = model(images)
                total_loss += F.cross_entropy(out, labels, reduction="sum").item()
                correct += int((out.argmax(1) == labels).sum())
            n = len(loader.dataset)
            return total_loss / n, correct / n
    """,
    ),
    # ---------------------------------------------------------------- accuracy
    wrong(
        "accuracy",
        "returns a tensor",
        "`.item()`",
        """
        def accuracy(logits, labels):
            return (logits.argmax(dim=1) == labels).float().mean()
    """,
    ),
    wrong(
        "accuracy",
        "returns the count",
        "divide by the number of rows",
        """
        def accuracy(logits, labels):
            return (logits.argmax(1) == labels).sum().item()
    """,
    ),
    wrong(
        "accuracy",
        "in percent",
        "percentage",
        """
        def accuracy(logits, labels):
            return 100 * (logits.argmax(1) == labels).float().mean().item()
    """,
    ),
    wrong(
        "accuracy",
        "integer division",
        "integer division",
        """
        def accuracy(logits, labels):
            correct = (logits.argmax(1) == labels).sum().item()
            return correct // len(labels)
    """,
    ),
    wrong(
        "accuracy",
        "compares the max values, not the indices",
        "argmax",
        """
        def accuracy(logits, labels):
            return (logits.max(dim=1).values == labels).float().mean().item()
    """,
    ),
    right(
        "accuracy",
        "max(...).indices and numel",
        """
        def accuracy(logits, labels):
            predicted = logits.max(dim=1).indices
            return predicted.eq(labels).sum().item() / labels.numel()
    """,
    ),
    right(
        "accuracy",
        "softmax then argmax, in a loop",
        """
        import torch

        def accuracy(logits, labels):
            probs = torch.softmax(logits, dim=1)
            correct = 0
            for row, label in zip(probs, labels):
                if row.argmax().item() == label.item():
                    correct += 1
            return correct / len(labels)
    """,
    ),
    # ---------------------------------------------------------------- epoch-mean-loss
    wrong(
        "epoch-mean-loss",
        "divides the plain sum by the samples",
        "multiply it by the batch's size",
        """
        def epoch_mean_loss(batch_losses, batch_sizes):
            return sum(batch_losses) / sum(batch_sizes)
    """,
    ),
    wrong(
        "epoch-mean-loss",
        "divides the weighted sum by the batches",
        "not the number of batches",
        """
        def epoch_mean_loss(batch_losses, batch_sizes):
            total = 0
            for loss, n in zip(batch_losses, batch_sizes):
                total += loss * n
            return total / len(batch_sizes)
    """,
    ),
    wrong(
        "epoch-mean-loss",
        "forgets to divide",
        "divide by the number of samples",
        """
        def epoch_mean_loss(batch_losses, batch_sizes):
            return sum(l * n for l, n in zip(batch_losses, batch_sizes))
    """,
    ),
    wrong(
        "epoch-mean-loss",
        "weights every batch by the first size",
        "by its size",
        """
        def epoch_mean_loss(batch_losses, batch_sizes):
            size = batch_sizes[0]
            return sum(l * size for l in batch_losses) / (size * len(batch_losses))
    """,
    ),
    right(
        "epoch-mean-loss",
        "numpy average with weights",
        """
        import numpy as np

        def epoch_mean_loss(batch_losses, batch_sizes):
            return float(np.average(batch_losses, weights=batch_sizes))
    """,
    ),
    right(
        "epoch-mean-loss",
        "running totals",
        """
        def epoch_mean_loss(batch_losses, batch_sizes):
            running_loss, seen = 0.0, 0
            for i in range(len(batch_losses)):
                running_loss += batch_losses[i] * batch_sizes[i]
                seen += batch_sizes[i]
            return running_loss / seen
    """,
    ),
]

ATTEMPTS += [
    # ---------------------------------------------------------------- overfit-one-batch
    wrong(
        "overfit-one-batch",
        "no zero_grad",
        "pile up",
        """
        import torch
        from torch import nn

        def overfit_one_batch(model, images, labels, steps):
            opt = torch.optim.Adam(model.parameters(), lr=1e-2)
            losses = []
            for _ in range(steps):
                loss = nn.functional.cross_entropy(model(images), labels)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            return losses
    """,
    ),
    wrong(
        "overfit-one-batch",
        "a new optimizer every step",
        "make it once",
        """
        import torch
        from torch import nn

        def overfit_one_batch(model, images, labels, steps):
            criterion = nn.CrossEntropyLoss()
            losses = []
            for step in range(steps):
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
    """,
    ),
    wrong(
        "overfit-one-batch",
        "keeps the loss tensors",
        "append loss.item()",
        """
        import torch
        from torch import nn

        def overfit_one_batch(model, images, labels, steps):
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
            criterion = nn.CrossEntropyLoss()
            losses = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                losses.append(loss)
            return losses
    """,
    ),
    wrong(
        "overfit-one-batch",
        "SGD instead of Adam",
        "Adam",
        """
        import torch
        from torch import nn

        def overfit_one_batch(model, images, labels, steps):
            optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
            losses = []
            for _ in range(steps):
                optimizer.zero_grad()
                loss = nn.CrossEntropyLoss()(model(images), labels)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            return losses
    """,
    ),
    wrong(
        "overfit-one-batch",
        "returns only the last loss",
        "return a list",
        """
        import torch
        from torch import nn

        def overfit_one_batch(model, images, labels, steps):
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
            for _ in range(steps):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(images), labels)
                loss.backward()
                optimizer.step()
            return loss.item()
    """,
    ),
    right(
        "overfit-one-batch",
        "zero_grad at the end, float(loss)",
        """
        import torch
        import torch.nn.functional as F

        def overfit_one_batch(model, images, labels, steps):
            optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
            history = []
            for _ in range(steps):
                loss = F.cross_entropy(model(images), labels)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                history.append(float(loss))
            return history
    """,
    ),
    right(
        "overfit-one-batch",
        "model.zero_grad, a while loop",
        """
        import torch
        from torch import nn

        def overfit_one_batch(model, images, labels, steps):
            model.train()
            optimizer = torch.optim.Adam(params=model.parameters(), lr=1e-2)
            criterion = nn.CrossEntropyLoss()
            losses, step = [], 0
            while step < steps:
                model.zero_grad()
                logits = model(images)
                loss = criterion(logits, labels)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                step += 1
            return losses
    """,
    ),
    # ---------------------------------------------------------------- early-stopping
    wrong(
        "early-stopping",
        "a tie counts as a new best",
        ">, not >=",
        """
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.best = None
                self.bad = 0

            def step(self, val_acc):
                if self.best is None or val_acc >= self.best:
                    self.best = val_acc
                    self.bad = 0
                else:
                    self.bad += 1
                return self.bad >= self.patience
    """,
    ),
    wrong(
        "early-stopping",
        "stops one epoch late",
        "one epoch late",
        """
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.best = float("-inf")
                self.wait = 0

            def step(self, val_acc):
                if val_acc > self.best:
                    self.best = val_acc
                    self.wait = 0
                else:
                    self.wait += 1
                return self.wait > self.patience
    """,
    ),
    wrong(
        "early-stopping",
        "state kept on the class",
        "keep the state on self",
        """
        class EarlyStopping:
            best = float("-inf")
            counter = 0

            def __init__(self, patience):
                self.patience = patience

            def step(self, val_acc):
                if val_acc > EarlyStopping.best:
                    EarlyStopping.best = val_acc
                    EarlyStopping.counter = 0
                else:
                    EarlyStopping.counter += 1
                return EarlyStopping.counter >= self.patience
    """,
    ),
    wrong(
        "early-stopping",
        "never resets the count",
        "reset the count",
        """
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.best = float("-inf")
                self.count = 0

            def step(self, val_acc):
                if val_acc > self.best:
                    self.best = val_acc
                else:
                    self.count += 1
                return self.count >= self.patience
    """,
    ),
    wrong(
        "early-stopping",
        "returns None instead of False",
        "returned None",
        """
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.best = float("-inf")
                self.count = 0

            def step(self, val_acc):
                if val_acc > self.best:
                    self.best, self.count = val_acc, 0
                else:
                    self.count += 1
                if self.count >= self.patience:
                    return True
    """,
    ),
    right(
        "early-stopping",
        "the best epoch's index",
        """
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.epoch = -1
                self.best_epoch = -1
                self.best_acc = None

            def step(self, val_acc):
                self.epoch += 1
                if self.best_acc is None or val_acc > self.best_acc:
                    self.best_acc = val_acc
                    self.best_epoch = self.epoch
                return self.epoch - self.best_epoch >= self.patience
    """,
    ),
    right(
        "early-stopping",
        "a history list",
        """
        class EarlyStopping:
            def __init__(self, patience):
                self.patience = patience
                self.history = []

            def step(self, val_acc):
                self.history.append(val_acc)
                best_at = max(range(len(self.history)), key=lambda i: (self.history[i], -i))
                return len(self.history) - 1 - best_at >= self.patience
    """,
    ),
    # ---------------------------------------------------------------- clip-grad-norm
    wrong(
        "clip-grad-norm",
        "always rescales",
        "scale only when the total norm exceeds",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for g in grads:
                g.mul_(max_norm / total)
            return total.item()
    """,
    ),
    wrong(
        "clip-grad-norm",
        "reads the parameters twice",
        "generator",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            total = 0.0
            for p in parameters:
                if p.grad is not None:
                    total += p.grad.pow(2).sum().item()
            total = total ** 0.5
            if total > max_norm:
                for p in parameters:
                    if p.grad is not None:
                        p.grad *= max_norm / total
            return total
    """,
    ),
    wrong(
        "clip-grad-norm",
        "returns the norm after clipping",
        "before clipping",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            norm = torch.norm(torch.stack([g.norm() for g in grads]))
            if norm > max_norm:
                for g in grads:
                    g.mul_(max_norm / norm)
                norm = torch.norm(torch.stack([g.norm() for g in grads]))
            return norm.item()
    """,
    ),
    wrong(
        "clip-grad-norm",
        "returns a tensor",
        "`.item()`",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total = torch.sqrt(sum((g ** 2).sum() for g in grads))
            if total > max_norm:
                for g in grads:
                    g.mul_(max_norm / total)
            return total
    """,
    ),
    wrong(
        "clip-grad-norm",
        "does not skip a missing gradient",
        "NoneType",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            params = list(parameters)
            total = sum(p.grad.norm() ** 2 for p in params) ** 0.5
            if total > max_norm:
                for p in params:
                    p.grad.mul_(max_norm / total)
            return float(total)
    """,
    ),
    wrong(
        "clip-grad-norm",
        "adds the norms instead of their squares",
        "one total norm",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total = sum(g.norm() for g in grads)
            if total > max_norm:
                for g in grads:
                    g.mul_(max_norm / total)
            return total.item()
    """,
    ),
    right(
        "clip-grad-norm",
        "torch's clip coefficient with its epsilon",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
            clip_coef = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(clip_coef)
            return total_norm.item()
    """,
    ),
    right(
        "clip-grad-norm",
        "torch's own function on a list",
        """
        import torch

        def clip_grad_norm(parameters, max_norm):
            return torch.nn.utils.clip_grad_norm_(list(parameters), max_norm).item()
    """,
    ),
    # ---------------------------------------------------------------- checkpoint-resume
    wrong(
        "checkpoint-resume",
        "stores epoch + 1",
        "store the epoch you are given",
        """
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"epoch": epoch + 1, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    """,
    ),
    wrong(
        "checkpoint-resume",
        "saves the objects",
        "cannot read the file",
        """
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"epoch": epoch, "model": model, "optimizer": optimizer}, path)
    """,
    ),
    wrong(
        "checkpoint-resume",
        "a fixed file name",
        "no file at `path`",
        """
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            state = {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save(state, "checkpoint.pth")
    """,
    ),
    wrong(
        "checkpoint-resume",
        "the tutorial's key names",
        "exactly the keys epoch, model and optimizer",
        """
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"epoch": epoch, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()}, path)
    """,
    ),
    wrong(
        "checkpoint-resume",
        "the parameters instead of the state dict",
        "model.state_dict()",
        """
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            torch.save({"epoch": epoch, "model": [p.detach() for p in model.parameters()], "optimizer": optimizer.state_dict()}, path)
    """,
    ),
    right(
        "checkpoint-resume",
        "an open file and a deep copy",
        """
        import copy
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            checkpoint = dict(epoch=epoch, model=copy.deepcopy(model.state_dict()), optimizer=copy.deepcopy(optimizer.state_dict()))
            with open(path, "wb") as f:
                torch.save(checkpoint, f)
    """,
    ),
    right(
        "checkpoint-resume",
        "a pathlib path",
        """
        from pathlib import Path
        import torch

        def save_checkpoint(path, model, optimizer, epoch):
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": int(epoch)}, str(path))
    """,
    ),
    # ---------------------------------------------------------------- seed-everything
    wrong(
        "seed-everything",
        "a new NumPy generator, not the global one",
        "numpy's generator was not seeded",
        """
        import random
        import numpy as np
        import torch

        def seed_everything(seed):
            random.seed(seed)
            rng = np.random.default_rng(seed)
            torch.manual_seed(seed)
    """,
    ),
    wrong(
        "seed-everything",
        "a hard-coded seed",
        "do not depend on the seed",
        """
        import random
        import numpy as np
        import torch

        def seed_everything(seed):
            random.seed(42)
            np.random.seed(42)
            torch.manual_seed(42)
    """,
    ),
    wrong(
        "seed-everything",
        "forgets Python's random",
        "random's generator was not seeded",
        """
        import numpy as np
        import torch

        def seed_everything(seed):
            np.random.seed(seed)
            torch.manual_seed(seed)
    """,
    ),
    wrong(
        "seed-everything",
        "seeds CUDA only",
        "torch's generator was not seeded",
        """
        import random
        import numpy as np
        import torch

        def seed_everything(seed):
            random.seed(seed)
            np.random.seed(seed)
            torch.cuda.manual_seed_all(seed)
    """,
    ),
    right(
        "seed-everything",
        "everything, deterministic flags too",
        """
        import os
        import random
        import numpy as np
        import torch

        def seed_everything(seed):
            os.environ["PYTHONHASHSEED"] = str(seed)
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
            torch.cuda.manual_seed_all(seed)
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
    """,
    ),
    right(
        "seed-everything",
        "torch.random and a modulo",
        """
        import random
        import numpy
        import torch

        def seed_everything(seed):
            random.seed(seed)
            numpy.random.seed(seed % 2**32)
            torch.random.manual_seed(seed)
    """,
    ),
]

_BN = "def batchnorm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):"

ATTEMPTS += [
    # ---------------------------------------------------------------- batchnorm-forward
    wrong(
        "batchnorm-forward",
        "normalises with the unbiased variance",
        "biased batch variance",
        f"""
        import torch

        {_BN}
            s = (1, -1, 1, 1)
            if training:
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3))
                with torch.no_grad():
                    running_mean.mul_(1 - momentum).add_(momentum * mean)
                    running_var.mul_(1 - momentum).add_(momentum * var)
            else:
                mean, var = running_mean, running_var
            return gamma.view(s) * (x - mean.view(s)) / torch.sqrt(var.view(s) + eps) + beta.view(s)
    """,
    ),
    wrong(
        "batchnorm-forward",
        "momentum the wrong way round",
        "weight of the new batch statistic",
        f"""
        import torch

        {_BN}
            s = (1, -1, 1, 1)
            if training:
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3), unbiased=False)
                n = x.numel() // x.size(1)
                with torch.no_grad():
                    running_mean.copy_(momentum * running_mean + (1 - momentum) * mean)
                    running_var.copy_(momentum * running_var + (1 - momentum) * var * n / (n - 1))
            else:
                mean, var = running_mean, running_var
            return gamma.view(s) * (x - mean.view(s)) / torch.sqrt(var.view(s) + eps) + beta.view(s)
    """,
    ),
    wrong(
        "batchnorm-forward",
        "rebinds the running statistics",
        "in place",
        f"""
        import torch

        {_BN}
            s = (1, -1, 1, 1)
            if training:
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3), unbiased=False)
                n = x.numel() / x.shape[1]
                running_mean = (1 - momentum) * running_mean + momentum * mean.detach()
                running_var = (1 - momentum) * running_var + momentum * var.detach() * n / (n - 1)
            else:
                mean, var = running_mean, running_var
            return gamma.view(s) * (x - mean.view(s)) / torch.sqrt(var.view(s) + eps) + beta.view(s)
    """,
    ),
    wrong(
        "batchnorm-forward",
        "eps outside the square root",
        "inside the square root",
        f"""
        import torch

        {_BN}
            s = (1, -1, 1, 1)
            if training:
                mean = x.mean(dim=(0, 2, 3))
                var = x.var(dim=(0, 2, 3), unbiased=False)
                n = x.numel() / x.shape[1]
                with torch.no_grad():
                    running_mean.mul_(1 - momentum).add_(momentum * mean)
                    running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
            else:
                mean, var = running_mean, running_var
            return gamma.view(s) * (x - mean.view(s)) / (var.view(s).sqrt() + eps) + beta.view(s)
    """,
    ),
    wrong(
        "batchnorm-forward",
        "batch statistics detached",
        "differentiable torch operations",
        f"""
        import torch

        {_BN}
            s = (1, -1, 1, 1)
            if training:
                mean = x.mean(dim=(0, 2, 3)).detach()
                var = x.var(dim=(0, 2, 3), unbiased=False).detach()
                n = x.numel() / x.shape[1]
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))
            else:
                mean, var = running_mean, running_var
            return gamma.view(s) * (x - mean.view(s)) / torch.sqrt(var.view(s) + eps) + beta.view(s)
    """,
    ),
    right(
        "batchnorm-forward",
        "keepdim statistics and rsqrt",
        f"""
        import torch

        {_BN}
            if training:
                mean = x.mean(dim=(0, 2, 3), keepdim=True)
                var = ((x - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
                unbiased = x.var(dim=(0, 2, 3), unbiased=True)
                with torch.no_grad():
                    running_mean.copy_((1 - momentum) * running_mean + momentum * mean.flatten())
                    running_var.copy_((1 - momentum) * running_var + momentum * unbiased)
            else:
                mean = running_mean.reshape(1, -1, 1, 1)
                var = running_var.reshape(1, -1, 1, 1)
            x_hat = (x - mean) * torch.rsqrt(var + eps)
            return x_hat * gamma[None, :, None, None] + beta[None, :, None, None]
    """,
    ),
    right(
        "batchnorm-forward",
        "a permute to (C, N*H*W)",
        f"""
        import torch

        {_BN}
            c = x.shape[1]
            flat = x.permute(1, 0, 2, 3).reshape(c, -1)
            if training:
                mean = flat.mean(1)
                var = flat.var(1, unbiased=False)
                m = flat.shape[1]
                with torch.no_grad():
                    running_mean[:] = (1 - momentum) * running_mean + momentum * mean
                    running_var[:] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
            else:
                mean, var = running_mean, running_var
            out = (x - mean[:, None, None]) / torch.sqrt(var[:, None, None] + eps)
            return gamma[:, None, None] * out + beta[:, None, None]
    """,
    ),
    # ---------------------------------------------------------------- dropout
    wrong(
        "dropout",
        "keeps each unit with probability p",
        "survive with probability 1 - p",
        """
        import torch

        def dropout(x, p, training):
            if not training:
                return x
            mask = (torch.rand_like(x) < p).float()
            return x * mask / (1 - p)
    """,
    ),
    wrong(
        "dropout",
        "one mask for the whole batch",
        "shared by the whole batch",
        """
        import torch

        def dropout(x, p, training):
            if not training:
                return x
            mask = (torch.rand(x.shape[1:]) >= p).to(x.dtype)
            return x * mask / (1 - p)
    """,
    ),
    wrong(
        "dropout",
        "multiplies by 1 - p",
        "not by (1 - p)",
        """
        import torch

        def dropout(x, p, training):
            if training:
                x = x * (torch.rand_like(x) > p) * (1 - p)
            return x
    """,
    ),
    wrong(
        "dropout",
        "modifies the input in place",
        "do not modify x in place",
        """
        import torch

        def dropout(x, p, training):
            if not training:
                return x
            x.data.mul_((torch.rand_like(x) >= p).float() / (1 - p))
            return x
    """,
    ),
    wrong(
        "dropout",
        "scales at evaluation",
        "identity",
        """
        import torch

        def dropout(x, p, training):
            if training:
                return x * (torch.rand_like(x) >= p).float() / (1 - p)
            return x * (1 - p)
    """,
    ),
    right(
        "dropout",
        "a NumPy mask",
        """
        import numpy as np
        import torch

        def dropout(x, p, training):
            if not training:
                return x
            keep = torch.from_numpy(np.random.rand(*x.shape) >= p)
            return torch.where(keep, x / (1 - p), torch.zeros_like(x))
    """,
    ),
    right(
        "dropout",
        "torch.bernoulli",
        """
        import torch

        def dropout(x, p, training):
            if training and p > 0:
                mask = torch.bernoulli(torch.full_like(x, 1 - p))
                return mask * x / (1 - p)
            return x
    """,
    ),
    # ---------------------------------------------------------------- residual-block
    wrong(
        "residual-block",
        "projection only when the channels change",
        "1x1 convolution",
        """
        from torch import nn
        import torch.nn.functional as F

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
                self.bn1 = nn.BatchNorm2d(out_channels)
                self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(out_channels)
                self.shortcut = nn.Identity()
                if in_channels != out_channels:
                    self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))

            def forward(self, x):
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                return F.relu(out + self.shortcut(x))
    """,
    ),
    wrong(
        "residual-block",
        "no ReLU after the addition",
        "final ReLU",
        """
        from torch import nn

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.branch = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
                    nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels),
                )
                self.shortcut = nn.Identity()
                if stride != 1 or in_channels != out_channels:
                    self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))

            def forward(self, x):
                return self.branch(x) + self.shortcut(x)
    """,
    ),
    wrong(
        "residual-block",
        "the stride on the second convolution",
        "wrong stride",
        """
        from torch import nn

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.branch = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
                    nn.Conv2d(out_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels),
                )
                self.shortcut = nn.Identity()
                if stride != 1 or in_channels != out_channels:
                    self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))

            def forward(self, x):
                return nn.functional.relu(self.branch(x) + self.shortcut(x))
    """,
    ),
    wrong(
        "residual-block",
        "a projection without BatchNorm",
        "followed by BatchNorm2d",
        """
        from torch import nn

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.branch = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
                    nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels),
                )
                self.shortcut = nn.Identity()
                if stride != 1 or in_channels != out_channels:
                    self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)

            def forward(self, x):
                return nn.functional.relu(self.branch(x) + self.shortcut(x))
    """,
    ),
    wrong(
        "residual-block",
        "a projection even when shapes match",
        "must be the identity",
        """
        from torch import nn

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.branch = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(),
                    nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(out_channels),
                )
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels))

            def forward(self, x):
                return nn.functional.relu(self.branch(x) + self.shortcut(x))
    """,
    ),
    right(
        "residual-block",
        "named layers with biases, in-place add",
        """
        import torch.nn as nn
        import torch.nn.functional as F

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)
                self.bn1 = nn.BatchNorm2d(out_channels)
                self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
                self.bn2 = nn.BatchNorm2d(out_channels)
                self.shortcut = nn.Sequential()
                if stride != 1 or in_channels != out_channels:
                    self.shortcut = nn.Sequential(
                        nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride),
                        nn.BatchNorm2d(out_channels),
                    )

            def forward(self, x):
                out = F.relu(self.bn1(self.conv1(x)))
                out = self.bn2(self.conv2(out))
                out += self.shortcut(x)
                return F.relu(out)
    """,
    ),
    right(
        "residual-block",
        "the shortcut defined first, a None identity",
        """
        from torch import nn

        class ResidualBlock(nn.Module):
            def __init__(self, in_channels, out_channels, stride=1):
                super().__init__()
                self.project = None
                if stride != 1 or in_channels != out_channels:
                    self.project = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))
                self.c1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
                self.b1 = nn.BatchNorm2d(out_channels)
                self.c2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
                self.b2 = nn.BatchNorm2d(out_channels)
                self.act = nn.ReLU(inplace=True)

            def forward(self, x):
                identity = x if self.project is None else self.project(x)
                y = self.act(self.b1(self.c1(x)))
                y = self.b2(self.c2(y))
                return self.act(y + identity)
    """,
    ),
    # ---------------------------------------------------------------- kaiming-init
    wrong(
        "kaiming-init",
        "kaiming_uniform_",
        "not normally distributed",
        """
        from torch import nn

        def init_weights(model):
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
                    nn.init.zeros_(m.bias)
    """,
    ),
    wrong(
        "kaiming-init",
        "fan_out mode",
        "mode='fan_in'",
        """
        from torch import nn

        def init_weights(model):
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
    """,
    ),
    wrong(
        "kaiming-init",
        "only the direct children",
        "nested ones too",
        """
        from torch import nn

        def init_weights(model):
            for layer in model.children():
                if isinstance(layer, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                    nn.init.zeros_(layer.bias)
    """,
    ),
    wrong(
        "kaiming-init",
        "every 1-D parameter zeroed",
        "leave BatchNorm alone",
        """
        from torch import nn

        def init_weights(model):
            for p in model.parameters():
                if p.dim() > 1:
                    nn.init.kaiming_normal_(p, nonlinearity="relu")
                else:
                    nn.init.zeros_(p)
    """,
    ),
    wrong(
        "kaiming-init",
        "biases left as they were",
        "set every bias to zero",
        """
        from torch import nn

        def init_weights(model):
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    """,
    ),
    wrong(
        "kaiming-init",
        "Xavier instead",
        "sqrt(2 / fan_in)",
        """
        from torch import nn

        def init_weights(model):
            for m in model.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_normal_(m.weight)
                    nn.init.constant_(m.bias, 0)
    """,
    ),
    right(
        "kaiming-init",
        "model.apply and the default nonlinearity",
        """
        import torch.nn as nn

        def _init(m):
            if type(m) in (nn.Conv2d, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                if m.bias is not None:
                    m.bias.data.fill_(0.0)

        def init_weights(model):
            model.apply(_init)
    """,
    ),
    right(
        "kaiming-init",
        "by hand: normal_ with the std computed",
        """
        import math
        import torch
        from torch import nn

        def init_weights(model):
            with torch.no_grad():
                for module in model.modules():
                    if isinstance(module, nn.Conv2d) or isinstance(module, nn.Linear):
                        fan_in = module.weight[0].numel()
                        module.weight.normal_(0.0, math.sqrt(2.0 / fan_in))
                        module.bias.zero_()
    """,
    ),
]

ATTEMPTS += [
    # ---------------------------------------------------------------- cross-entropy
    wrong(
        "cross-entropy",
        "the sum over the batch",
        "the batch's sum",
        """
        import torch

        def cross_entropy(logits, labels):
            shifted = logits - logits.max(dim=1, keepdim=True).values
            log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
            return -log_probs[range(len(labels)), labels].sum()
    """,
    ),
    wrong(
        "cross-entropy",
        "one max for the whole batch",
        "each row's own max",
        """
        import torch

        def cross_entropy(logits, labels):
            z = logits - logits.max()
            log_probs = z - z.exp().sum(dim=1, keepdim=True).log()
            return -log_probs[torch.arange(len(labels)), labels].mean()
    """,
    ),
    wrong(
        "cross-entropy",
        "returns a float",
        "return the tensor itself",
        """
        import torch

        def cross_entropy(logits, labels):
            z = logits - logits.max(dim=1, keepdim=True).values
            log_probs = z - z.exp().sum(dim=1, keepdim=True).log()
            return -log_probs[torch.arange(len(labels)), labels].mean().item()
    """,
    ),
    wrong(
        "cross-entropy",
        "indexes a column per label",
        "per row",
        """
        import torch

        def cross_entropy(logits, labels):
            z = logits - logits.max(dim=1, keepdim=True).values
            log_probs = z - z.exp().sum(dim=1, keepdim=True).log()
            return -log_probs[:, labels].mean()
    """,
    ),
    wrong(
        "cross-entropy",
        "max without keepdim",
        "Likely",
        """
        import torch

        def cross_entropy(logits, labels):
            z = logits - logits.max(dim=1).values
            log_probs = z - z.exp().sum(dim=1, keepdim=True).log()
            return -log_probs[torch.arange(len(labels)), labels].mean()
    """,
    ),
    right(
        "cross-entropy",
        "logsumexp and gather",
        """
        import torch

        def cross_entropy(logits, labels):
            picked = logits.gather(1, labels.unsqueeze(1)).squeeze(1)
            return (torch.logsumexp(logits, dim=1) - picked).mean()
    """,
    ),
    right(
        "cross-entropy",
        "one-hot targets",
        """
        import torch
        import torch.nn.functional as F

        def cross_entropy(logits, labels):
            m, _ = torch.max(logits, dim=1, keepdim=True)
            log_probs = logits - m - torch.log(torch.sum(torch.exp(logits - m), dim=1, keepdim=True))
            one_hot = F.one_hot(labels, num_classes=logits.shape[1]).float()
            return -(one_hot * log_probs).sum(dim=1).mean()
    """,
    ),
    # ---------------------------------------------------------------- label-smoothing
    wrong(
        "label-smoothing",
        "adds the smoothing on top of the label",
        "take smoothing away from the label",
        """
        import torch

        def smoothed_cross_entropy(logits, labels, smoothing):
            log_probs = logits.log_softmax(dim=1)
            target = torch.full_like(log_probs, smoothing / logits.size(1))
            target[torch.arange(len(labels)), labels] = 1.0 + smoothing / logits.size(1)
            return -(target * log_probs).sum(dim=1).mean()
    """,
    ),
    wrong(
        "label-smoothing",
        "the sum over the batch",
        "the batch's sum",
        """
        import torch

        def smoothed_cross_entropy(logits, labels, smoothing):
            n_classes = logits.shape[1]
            log_probs = torch.log_softmax(logits, dim=1)
            target = torch.ones_like(log_probs) * smoothing / n_classes
            target.scatter_add_(1, labels[:, None], torch.full((len(labels), 1), 1 - smoothing))
            return -(target * log_probs).sum()
    """,
    ),
    wrong(
        "label-smoothing",
        "the probabilities instead of their logs",
        "log_softmax(logits)",
        """
        import torch

        def smoothed_cross_entropy(logits, labels, smoothing):
            probs = logits.softmax(dim=1)
            target = torch.full_like(probs, smoothing / logits.shape[1])
            target[torch.arange(len(labels)), labels] += 1 - smoothing
            return -(target * probs).sum(dim=1).mean()
    """,
    ),
    wrong(
        "label-smoothing",
        "ignores the smoothing",
        "smoothing / C",
        """
        import torch.nn.functional as F

        def smoothed_cross_entropy(logits, labels, smoothing):
            return F.cross_entropy(logits, labels)
    """,
    ),
    right(
        "label-smoothing",
        "mixing the two losses",
        """
        import torch

        def smoothed_cross_entropy(logits, labels, smoothing):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
            uniform = -log_probs.mean(dim=-1)
            return ((1 - smoothing) * nll + smoothing * uniform).mean()
    """,
    ),
    right(
        "label-smoothing",
        "torch's own option",
        """
        import torch.nn.functional as F

        def smoothed_cross_entropy(logits, labels, smoothing):
            return F.cross_entropy(logits, labels, label_smoothing=smoothing)
    """,
    ),
    # ---------------------------------------------------------------- mixup
    wrong(
        "mixup",
        "the permuted labels are never used",
        "permuted labels",
        """
        from torch import nn

        def mixup_step(model, images, labels, lam, permutation):
            mixed = lam * images + (1 - lam) * images[permutation]
            logits = model(mixed)
            loss = lam * nn.functional.cross_entropy(logits, labels) + (1 - lam) * nn.functional.cross_entropy(logits, labels)
            return mixed, loss
    """,
    ),
    wrong(
        "mixup",
        "mixes two outputs",
        "one forward pass",
        """
        from torch import nn

        def mixup_step(model, images, labels, lam, permutation):
            mixed = lam * images + (1 - lam) * images[permutation]
            logits = lam * model(images) + (1 - lam) * model(images[permutation])
            return mixed, nn.CrossEntropyLoss()(logits, labels)
    """,
    ),
    wrong(
        "mixup",
        "returns the loss as a float",
        "return the tensor itself",
        """
        from torch import nn

        def mixup_step(model, images, labels, lam, permutation):
            mixed = lam * images + (1 - lam) * images[permutation]
            out = model(mixed)
            ce = nn.CrossEntropyLoss()
            loss = lam * ce(out, labels) + (1 - lam) * ce(out, labels[permutation])
            return mixed, loss.item()
    """,
    ),
    wrong(
        "mixup",
        "flips the batch",
        "use the permutation you are given",
        """
        from torch import nn

        def mixup_step(model, images, labels, lam, permutation):
            mixed = lam * images + (1 - lam) * images.flip(0)
            out = model(mixed)
            ce = nn.CrossEntropyLoss()
            return mixed, lam * ce(out, labels) + (1 - lam) * ce(out, labels.flip(0))
    """,
    ),
    wrong(
        "mixup",
        "the image weights swapped",
        "lam * images",
        """
        from torch import nn

        def mixup_step(model, images, labels, lam, permutation):
            mixed = (1 - lam) * images + lam * images[permutation]
            out = model(mixed)
            ce = nn.CrossEntropyLoss()
            return mixed, lam * ce(out, labels) + (1 - lam) * ce(out, labels[permutation])
    """,
    ),
    right(
        "mixup",
        "lerp and per-sample losses",
        """
        import torch
        import torch.nn.functional as F

        def mixup_step(model, images, labels, lam, permutation):
            mixed = torch.lerp(images[permutation], images, lam)
            logits = model(mixed)
            per_sample = lam * F.cross_entropy(logits, labels, reduction="none") + (1 - lam) * F.cross_entropy(logits, labels[permutation], reduction="none")
            return mixed, per_sample.mean()
    """,
    ),
    right(
        "mixup",
        "named halves",
        """
        from torch import nn

        def mixup_step(model, images, labels, lam, permutation):
            shuffled_images, shuffled_labels = images[permutation], labels[permutation]
            mixed = images * lam + shuffled_images * (1.0 - lam)
            criterion = nn.CrossEntropyLoss()
            predictions = model(mixed)
            loss_a = criterion(predictions, labels)
            loss_b = criterion(predictions, shuffled_labels)
            return mixed, lam * loss_a + (1.0 - lam) * loss_b
    """,
    ),
]

ATTEMPTS += [
    # ---------------------------------------------------------------- step-lr
    wrong(
        "step-lr",
        "true division",
        "floor division",
        """
        def step_lr(epoch, base_lr, step_size, gamma):
            return base_lr * gamma ** (epoch / step_size)
    """,
    ),
    wrong(
        "step-lr",
        "decays every epoch",
        "not every epoch",
        """
        def step_lr(epoch, base_lr, step_size, gamma):
            return base_lr * (gamma ** epoch)
    """,
    ),
    wrong(
        "step-lr",
        "multiplies instead of raising",
        "gamma ** (epoch // step_size)",
        """
        def step_lr(epoch, base_lr, step_size, gamma):
            decays = epoch // step_size
            return base_lr * gamma * decays if decays else base_lr
    """,
    ),
    wrong(
        "step-lr",
        "decays once only",
        "gamma ** (epoch // step_size)",
        """
        def step_lr(epoch, base_lr, step_size, gamma):
            return base_lr * gamma if epoch >= step_size else base_lr
    """,
    ),
    right(
        "step-lr",
        "a loop",
        """
        def step_lr(epoch, base_lr, step_size, gamma):
            lr = base_lr
            for e in range(1, epoch + 1):
                if e % step_size == 0:
                    lr *= gamma
            return lr
    """,
    ),
    right(
        "step-lr",
        "math.floor and math.pow",
        """
        import math

        def step_lr(epoch, base_lr, step_size, gamma):
            return base_lr * math.pow(gamma, math.floor(epoch / step_size))
    """,
    ),
    # ---------------------------------------------------------------- one-cycle-lr
    wrong(
        "one-cycle-lr",
        "the warmup ends one step late",
        "pct_start * total_steps - 1",
        """
        import math

        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            lo = max_lr / div_factor
            end = pct_start * total_steps
            def cos(a, b, t):
                return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
            if step <= end:
                return cos(lo, max_lr, step / end)
            return cos(max_lr, lo / final_div_factor, (step - end) / (total_steps - 1 - end))
    """,
    ),
    wrong(
        "one-cycle-lr",
        "the final LR from max_lr",
        "initial_lr / final_div_factor",
        """
        import math

        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            lo = max_lr / div_factor
            end = pct_start * total_steps - 1
            def cos(a, b, t):
                return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
            if step <= end:
                return cos(lo, max_lr, step / end)
            return cos(max_lr, max_lr / final_div_factor, (step - end) / (total_steps - 1 - end))
    """,
    ),
    wrong(
        "one-cycle-lr",
        "div_factor fixed at 25",
        "max_lr / div_factor",
        """
        import math

        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            lo = max_lr / 25
            end = pct_start * total_steps - 1
            def cos(a, b, t):
                return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
            if step <= end:
                return cos(lo, max_lr, step / end)
            return cos(max_lr, lo / final_div_factor, (step - end) / (total_steps - 1 - end))
    """,
    ),
    wrong(
        "one-cycle-lr",
        "the schedule ends at total_steps",
        "the last step is total_steps - 1",
        """
        import math

        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            lo = max_lr / div_factor
            end = pct_start * total_steps - 1
            def cos(a, b, t):
                return b + (a - b) * (1 + math.cos(math.pi * t)) / 2
            if step <= end:
                return cos(lo, max_lr, step / end)
            return cos(max_lr, lo / final_div_factor, (step - end) / (total_steps - end))
    """,
    ),
    right(
        "one-cycle-lr",
        "torch's scheduler, stepped",
        """
        import torch

        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                                                        div_factor=div_factor, final_div_factor=final_div_factor)
            for _ in range(step):
                opt.step()
                sched.step()
            return opt.param_groups[0]["lr"]
    """,
    ),
    right(
        "one-cycle-lr",
        "phases as fractions, cos written out",
        """
        from math import cos, pi

        def one_cycle_lr(step, total_steps, max_lr, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
            start_lr = max_lr / div_factor
            min_lr = start_lr / final_div_factor
            peak = float(pct_start * total_steps) - 1
            if step <= peak:
                t = step / peak
                return start_lr + (max_lr - start_lr) * 0.5 * (1 - cos(pi * t))
            t = (step - peak) / (total_steps - 1 - peak)
            return min_lr + (max_lr - min_lr) * 0.5 * (1 + cos(pi * t))
    """,
    ),
    # ---------------------------------------------------------------- warmup-cosine-lr
    wrong(
        "warmup-cosine-lr",
        "the warmup starts at 0",
        "not at 0",
        """
        import math

        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            if step < warmup_steps:
                return base_lr * step / warmup_steps
            t = (step - warmup_steps) / (total_steps - warmup_steps)
            return 0.5 * base_lr * (1 + math.cos(math.pi * t))
    """,
    ),
    wrong(
        "warmup-cosine-lr",
        "the cosine over all steps",
        "progress = (step - warmup_steps)",
        """
        import math

        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            if step < warmup_steps:
                return base_lr * (start_factor + (1 - start_factor) * step / warmup_steps)
            return 0.5 * base_lr * (1 + math.cos(math.pi * step / total_steps))
    """,
    ),
    wrong(
        "warmup-cosine-lr",
        "start factor fixed at 0.1",
        "use the start_factor you are given",
        """
        import math

        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            if step < warmup_steps:
                return base_lr * (0.1 + 0.9 * step / warmup_steps)
            t = (step - warmup_steps) / (total_steps - warmup_steps)
            return base_lr * (1 + math.cos(math.pi * t)) / 2
    """,
    ),
    wrong(
        "warmup-cosine-lr",
        "the warmup one step ahead",
        "LinearLR",
        """
        import math

        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            if step < warmup_steps:
                return base_lr * (start_factor + (1 - start_factor) * (step + 1) / warmup_steps)
            t = (step - warmup_steps) / (total_steps - warmup_steps)
            return base_lr * (1 + math.cos(math.pi * t)) / 2
    """,
    ),
    right(
        "warmup-cosine-lr",
        "torch's schedulers, stepped",
        """
        import torch

        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
            warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=start_factor, total_iters=warmup_steps)
            cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps - warmup_steps)
            sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[warmup_steps])
            for _ in range(step):
                opt.step()
                sched.step()
            return opt.param_groups[0]["lr"]
    """,
    ),
    right(
        "warmup-cosine-lr",
        "interpolation written differently",
        """
        from math import cos, pi

        def warmup_cosine_lr(step, total_steps, warmup_steps, base_lr, start_factor=0.1):
            if step >= warmup_steps:
                return base_lr * 0.5 * (1.0 + cos(pi * (step - warmup_steps) / (total_steps - warmup_steps)))
            start = start_factor * base_lr
            return start + (base_lr - start) * (step / warmup_steps)
    """,
    ),
    # ---------------------------------------------------------------- conv-output-size
    wrong(
        "conv-output-size",
        "true division",
        "floor division",
        """
        def conv_output_size(size, kernel, stride, padding, dilation=1):
            return (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    """,
    ),
    wrong(
        "conv-output-size",
        "ignores dilation",
        "dilated kernel",
        """
        def conv_output_size(size, kernel, stride, padding, dilation=1):
            return (size - kernel + 2 * padding) // stride + 1
    """,
    ),
    wrong(
        "conv-output-size",
        "rounds up",
        "round down",
        """
        import math

        def conv_output_size(size, kernel, stride, padding, dilation=1):
            return math.ceil((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1
    """,
    ),
    wrong(
        "conv-output-size",
        "padding on one side",
        "2 * padding",
        """
        def conv_output_size(size, kernel, stride, padding, dilation=1):
            span = dilation * (kernel - 1) + 1
            return (size + padding - span) // stride + 1
    """,
    ),
    right(
        "conv-output-size",
        "math.floor",
        """
        import math

        def conv_output_size(size, kernel, stride, padding, dilation=1):
            return math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1)
    """,
    ),
    right(
        "conv-output-size",
        "int() of a positive quotient",
        """
        def conv_output_size(size, kernel, stride, padding, dilation=1):
            padded = size + 2 * padding
            span = dilation * (kernel - 1) + 1
            return int((padded - span) / stride) + 1
    """,
    ),
    # ---------------------------------------------------------------- conv-parameters
    wrong(
        "conv-parameters",
        "ignores groups",
        "with groups",
        """
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            return in_channels * out_channels * kernel ** 2 + (out_channels if bias else 0)
    """,
    ),
    wrong(
        "conv-parameters",
        "divides both channel counts",
        "divide only the input channels",
        """
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            return (in_channels // groups) * (out_channels // groups) * kernel * kernel + (out_channels if bias else 0)
    """,
    ),
    wrong(
        "conv-parameters",
        "the kernel counted once",
        "kernel * kernel",
        """
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            return out_channels * in_channels // groups * kernel + (out_channels if bias else 0)
    """,
    ),
    wrong(
        "conv-parameters",
        "a bias per input channel",
        "plus out_channels biases",
        """
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            return out_channels * (in_channels // groups) * kernel * kernel + (in_channels if bias else 0)
    """,
    ),
    right(
        "conv-parameters",
        "counts a real Conv2d",
        """
        from torch import nn

        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            layer = nn.Conv2d(in_channels, out_channels, kernel, bias=bias, groups=groups)
            return sum(p.numel() for p in layer.parameters())
    """,
    ),
    right(
        "conv-parameters",
        "bool times int",
        """
        def conv_parameters(in_channels, out_channels, kernel, bias, groups=1):
            per_filter = (in_channels // groups) * kernel ** 2
            return out_channels * per_filter + int(bias) * out_channels
    """,
    ),
    # ---------------------------------------------------------------- count-trainable
    wrong(
        "count-trainable",
        "walks model.modules()",
        "model.modules()",
        """
        def count_trainable(model):
            total = 0
            for module in model.modules():
                for p in module.parameters():
                    if p.requires_grad:
                        total += p.numel()
            return total
    """,
    ),
    wrong(
        "count-trainable",
        "walks model.children()",
        "model.children()",
        """
        def count_trainable(model):
            return sum(p.numel() for child in model.children() for p in child.parameters() if p.requires_grad)
    """,
    ),
    wrong(
        "count-trainable",
        "counts tensors, not elements",
        "p.numel()",
        """
        def count_trainable(model):
            return len([p for p in model.parameters() if p.requires_grad])
    """,
    ),
    wrong(
        "count-trainable",
        "counts the frozen ones",
        "requires_grad",
        """
        def count_trainable(model):
            return sum(p.numel() for p in model.parameters() if not p.requires_grad)
    """,
    ),
    right(
        "count-trainable",
        "named_parameters",
        """
        def count_trainable(model):
            count = 0
            for name, param in model.named_parameters():
                if param.requires_grad:
                    count += param.numel()
            return count
    """,
    ),
    right(
        "count-trainable",
        "filter and map",
        """
        import torch

        def count_trainable(model):
            return sum(map(torch.numel, filter(lambda p: p.requires_grad, model.parameters())))
    """,
    ),
]

ATTEMPTS += [
    # ---------------------------------------------------------------- normalise-images
    wrong(
        "normalise-images",
        "swaps height and width",
        "swaps height and width",
        """
        import torch

        def normalise(images, mean, std):
            x = torch.from_numpy(images).float().permute(0, 3, 2, 1) / 255
            return (x - torch.tensor(mean)[None, :, None, None]) / torch.tensor(std)[None, :, None, None]
    """,
    ),
    wrong(
        "normalise-images",
        "reshapes instead of permuting",
        "reshape and view",
        """
        import torch

        def normalise(images, mean, std):
            n = images.shape[0]
            x = torch.tensor(images, dtype=torch.float32).view(n, 3, 32, 32) / 255.0
            return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    """,
    ),
    wrong(
        "normalise-images",
        "float64",
        "the dtype is float64",
        """
        import torch

        def normalise(images, mean, std):
            x = torch.from_numpy(images / 255.0).permute(0, 3, 1, 2)
            return (x - torch.tensor(mean, dtype=torch.float64).view(1, 3, 1, 1)) / torch.tensor(std, dtype=torch.float64).view(1, 3, 1, 1)
    """,
    ),
    wrong(
        "normalise-images",
        "channels left last",
        "the shape is",
        """
        import torch

        def normalise(images, mean, std):
            x = torch.from_numpy(images).float() / 255
            return (x - torch.tensor(mean)) / torch.tensor(std)
    """,
    ),
    right(
        "normalise-images",
        "NumPy first, then a tensor",
        """
        import numpy as np
        import torch

        def normalise(images, mean, std):
            x = images.astype(np.float32) / 255.0
            x = (x - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
            return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    """,
    ),
    right(
        "normalise-images",
        "torchvision's transforms, image by image",
        """
        import torch
        from torchvision import transforms

        def normalise(images, mean, std):
            transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
            return torch.stack([transform(image) for image in images])
    """,
    ),
    # ---------------------------------------------------------------- stratified-split
    wrong(
        "stratified-split",
        "no shuffle within a class",
        "depend on the seed",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            train, val = [], []
            for c in np.unique(labels):
                idx = np.where(labels == c)[0]
                k = round(len(idx) * val_fraction)
                val.extend(idx[:k])
                train.extend(idx[k:])
            return np.array(train), np.array(val)
    """,
    ),
    wrong(
        "stratified-split",
        "int() instead of round()",
        "round(count * val_fraction)",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            rng = np.random.default_rng(seed)
            train, val = [], []
            for c in np.unique(labels):
                idx = rng.permutation(np.flatnonzero(labels == c))
                k = int(len(idx) * val_fraction)
                val.append(idx[:k])
                train.append(idx[k:])
            return np.concatenate(train), np.concatenate(val)
    """,
    ),
    wrong(
        "stratified-split",
        "boolean masks",
        "not boolean masks",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            rng = np.random.default_rng(seed)
            is_val = np.zeros(len(labels), dtype=bool)
            for c in np.unique(labels):
                idx = rng.permutation(np.flatnonzero(labels == c))
                is_val[idx[: round(len(idx) * val_fraction)]] = True
            return ~is_val, is_val
    """,
    ),
    wrong(
        "stratified-split",
        "assumes classes 0..C-1",
        "every sample once",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            rng = np.random.default_rng(seed)
            train, val = [], []
            for c in range(len(np.unique(labels))):
                idx = rng.permutation(np.where(labels == c)[0])
                k = round(len(idx) * val_fraction)
                val += list(idx[:k])
                train += list(idx[k:])
            return np.array(train, dtype=int), np.array(val, dtype=int)
    """,
    ),
    wrong(
        "stratified-split",
        "an unseeded shuffle",
        "the same seed gives the same split",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            train, val = [], []
            for c in np.unique(labels):
                idx = np.flatnonzero(labels == c)
                np.random.shuffle(idx)
                k = round(len(idx) * val_fraction)
                val.append(idx[:k])
                train.append(idx[k:])
            return np.concatenate(train), np.concatenate(val)
    """,
    ),
    right(
        "stratified-split",
        "rng.choice and setdiff1d",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            rng = np.random.default_rng(seed)
            labels = np.asarray(labels)
            val = []
            for cls in sorted(set(labels.tolist())):
                members = np.nonzero(labels == cls)[0]
                val.extend(rng.choice(members, size=round(len(members) * val_fraction), replace=False).tolist())
            val = np.array(sorted(val), dtype=np.int64)
            train = np.setdiff1d(np.arange(len(labels)), val)
            return train, val
    """,
    ),
    right(
        "stratified-split",
        "the global generator, seeded",
        """
        import numpy as np

        def stratified_split(labels, val_fraction, seed):
            np.random.seed(seed)
            train_idx, val_idx = [], []
            for c in np.unique(labels):
                members = np.random.permutation(np.where(labels == c)[0])
                cut = int(round(val_fraction * len(members)))
                val_idx.extend(members[:cut].tolist())
                train_idx.extend(members[cut:].tolist())
            return train_idx, val_idx
    """,
    ),
    # ---------------------------------------------------------------- confusion-matrix
    wrong(
        "confusion-matrix",
        "advanced indexing with +=",
        "counts a repeated pair once",
        """
        import torch

        def confusion_matrix(predictions, labels, num_classes):
            matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
            matrix[labels, predictions] += 1
            return matrix
    """,
    ),
    wrong(
        "confusion-matrix",
        "a float matrix",
        "the dtype is float32",
        """
        import torch

        def confusion_matrix(predictions, labels, num_classes):
            matrix = torch.zeros(num_classes, num_classes)
            for p, t in zip(predictions, labels):
                matrix[t, p] += 1
            return matrix
    """,
    ),
    wrong(
        "confusion-matrix",
        "the size from the data",
        "the shape is",
        """
        import torch

        def confusion_matrix(predictions, labels, num_classes):
            n = int(max(predictions.max(), labels.max())) + 1
            matrix = torch.zeros(n, n, dtype=torch.long)
            for p, t in zip(predictions.tolist(), labels.tolist()):
                matrix[t, p] += 1
            return matrix
    """,
    ),
    wrong(
        "confusion-matrix",
        "a NumPy array",
        "NumPy array",
        """
        import numpy as np

        def confusion_matrix(predictions, labels, num_classes):
            matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
            for p, t in zip(predictions.tolist(), labels.tolist()):
                matrix[t, p] += 1
            return matrix
    """,
    ),
    right(
        "confusion-matrix",
        "bincount",
        """
        import torch

        def confusion_matrix(predictions, labels, num_classes):
            flat = labels * num_classes + predictions
            return torch.bincount(flat, minlength=num_classes ** 2).reshape(num_classes, num_classes)
    """,
    ),
    right(
        "confusion-matrix",
        "index_put_ with accumulate",
        """
        import torch

        def confusion_matrix(predictions, labels, num_classes):
            cm = torch.zeros((num_classes, num_classes), dtype=torch.int64)
            cm.index_put_((labels.long(), predictions.long()), torch.ones_like(labels, dtype=torch.int64), accumulate=True)
            return cm
    """,
    ),
    # ---------------------------------------------------------------- grad-cam
    wrong(
        "grad-cam",
        "absolute gradients",
        "keep the gradient's sign",
        """
        import torch

        def grad_cam(model, layer, image, class_index):
            store = {}
            h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
            h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
            model(image)[0, class_index].backward()
            h1.remove(); h2.remove()
            w = store["g"].abs().mean(dim=(2, 3), keepdim=True)
            cam = torch.relu((w * store["a"]).sum(1))[0]
            return (cam / cam.max()).detach()
    """,
    ),
    wrong(
        "grad-cam",
        "max-pooled gradients",
        "not the max",
        """
        import torch

        def grad_cam(model, layer, image, class_index):
            store = {}
            h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
            h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
            model(image)[0, class_index].backward()
            h1.remove(); h2.remove()
            w = store["g"].amax(dim=(2, 3), keepdim=True)
            cam = torch.relu((w * store["a"]).sum(1))[0]
            return (cam / cam.max()).detach()
    """,
    ),
    wrong(
        "grad-cam",
        "not scaled to 1",
        "divide by the maximum",
        """
        import torch

        def grad_cam(model, layer, image, class_index):
            store = {}
            h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
            h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
            model(image)[0, class_index].backward()
            h1.remove(); h2.remove()
            w = store["g"].mean(dim=(2, 3), keepdim=True)
            return torch.relu((w * store["a"]).sum(1))[0].detach()
    """,
    ),
    wrong(
        "grad-cam",
        "upsampled to the image",
        "the shape is",
        """
        import torch
        import torch.nn.functional as F

        def grad_cam(model, layer, image, class_index):
            store = {}
            h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
            h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
            model(image)[0, class_index].backward()
            h1.remove(); h2.remove()
            w = store["g"].mean(dim=(2, 3), keepdim=True)
            cam = torch.relu((w * store["a"]).sum(1, keepdim=True))
            cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
            return (cam / cam.max()).detach()
    """,
    ),
    wrong(
        "grad-cam",
        "the gradient of the softmax probability",
        "spatial mean of the class score's gradient",
        """
        import torch

        def grad_cam(model, layer, image, class_index):
            store = {}
            h1 = layer.register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
            h2 = layer.register_full_backward_hook(lambda m, gi, go: store.__setitem__("g", go[0]))
            model(image).softmax(dim=1)[0, class_index].backward()
            h1.remove(); h2.remove()
            w = store["g"].mean(dim=(2, 3), keepdim=True)
            cam = torch.relu((w * store["a"]).sum(1))[0]
            return (cam / cam.max()).detach()
    """,
    ),
    right(
        "grad-cam",
        "autograd.grad on the hooked output",
        """
        import torch

        def grad_cam(model, layer, image, class_index):
            features = []
            handle = layer.register_forward_hook(lambda module, inputs, output: features.append(output))
            try:
                score = model(image)[0, class_index]
            finally:
                handle.remove()
            (grads,) = torch.autograd.grad(score, features[0])
            weights = grads.mean(dim=(2, 3))[0]
            cam = torch.einsum("c,chw->hw", weights, features[0][0])
            cam = cam.clamp(min=0)
            return (cam / cam.max()).detach()
    """,
    ),
    right(
        "grad-cam",
        "a tensor hook and summed gradients",
        """
        import torch
        import torch.nn.functional as F

        def grad_cam(model, layer, image, class_index):
            saved = {}

            def keep(module, inputs, output):
                saved["act"] = output
                output.register_hook(lambda grad: saved.__setitem__("grad", grad))

            handle = layer.register_forward_hook(keep)
            model.zero_grad()
            out = model(image)
            handle.remove()
            out[:, class_index].sum().backward()
            alpha = saved["grad"].sum(dim=(2, 3), keepdim=True)
            cam = F.relu((alpha * saved["act"]).sum(dim=1)).squeeze(0)
            return cam.detach() / cam.max().item()
    """,
    ),
]
