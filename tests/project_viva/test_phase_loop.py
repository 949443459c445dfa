"""The PyTorch transfer-learning tutorial's training function, the template many students start
from: `for phase in ['train', 'val']` inside the epoch loop, loaders in a dict comprehension,
`torch.set_grad_enabled(phase == 'train')`, the best weights kept under
`if phase == 'val' and epoch_acc > best_acc:`. Before these tests its epochs read 2 (the phase
loop), its augmentations and batch size were lost in the dict, and its evaluation was never seen."""

from project_viva.interpreter import is_phase_list
from tests.project_viva.scripts import PARTS, kinds, line_of, run, script

TUTORIAL = """\
import copy
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, models, transforms

data_transforms = {
    'train': transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor()]),
    'val': transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()]),
}
full = datasets.CIFAR10('data', train=True, download=True, transform=data_transforms['train'])
VAL_DATA
image_datasets = {'train': train_part, 'val': val_part}
dataloaders = {x: DataLoader(image_datasets[x], batch_size=32, shuffle=(x == 'train')) for x in ['train', 'val']}
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()
            else:
                EVAL_MODE
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                GRAD_CONTEXT
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == 'train':
                        loss.backward()
                        optimizer.step()
                running_corrects += torch.sum(preds == labels.data)
            if phase == 'train':
                scheduler.step()
            epoch_acc = running_corrects.double() / len(image_datasets[phase])
            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return model


model_ft = models.resnet18(weights=models.ResNet18_Weights.DEFAULT)
model_ft.fc = nn.Linear(model_ft.fc.in_features, 10)
model_ft = model_ft.to(device)
criterion = nn.CrossEntropyLoss()
optimizer_ft = optim.SGD(model_ft.parameters(), lr=0.001, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_ft, step_size=7, gamma=0.1)
model_ft = train_model(model_ft, criterion, optimizer_ft, exp_lr_scheduler, num_epochs=25)
"""
SPLIT = "train_part, val_part = random_split(full, [45000, 5000])"
TEST_AS_VAL = "train_part = full\nval_part = datasets.CIFAR10('data', train=False, download=True, transform=data_transforms['val'])"


def tutorial(val_data: str = SPLIT, eval_mode: str = "model.eval()", grad: str = "with torch.set_grad_enabled(phase == 'train'):") -> str:
    return TUTORIAL.replace("VAL_DATA", val_data).replace("EVAL_MODE", eval_mode).replace("GRAD_CONTEXT", grad)


def test_the_tutorial_on_a_validation_split_is_read_right_and_raises_nothing():
    analysis = run(tutorial())
    facts = analysis.facts
    assert [f"{f.kind} {f.location}" for f in analysis.findings] == []
    assert facts["epochs"] == 25  # num_epochs, not the two phases
    assert facts["batch_size_train"] == 32
    assert facts["augmentations"] == ["RandomResizedCrop", "RandomHorizontalFlip"]
    assert facts["scheduler"] == {"name": "StepLR", "stepped": "per_epoch"}
    assert facts["eval_mode_used"] is True and facts["no_grad_in_eval"] is True
    assert facts["selection_on_test_set"] is False and analysis.extra["validation"] == "a split of the training set"


def test_the_tutorial_validating_on_the_test_set_selects_on_it():
    code = tutorial(val_data=TEST_AS_VAL)
    assert kinds(run(code)) == {"selection_on_test_set": [line_of(code, "if phase == 'val' and epoch_acc > best_acc:")]}


def test_the_tutorial_without_model_eval_runs_the_validation_in_train_mode():
    code = tutorial(eval_mode="pass")
    analysis = run(code)
    assert kinds(analysis) == {"eval_without_eval_mode": [line_of(code, "outputs = model(inputs)")]}
    assert analysis.facts["eval_mode_used"] is False


def test_the_tutorial_without_set_grad_enabled_builds_a_graph_in_validation():
    code = tutorial(grad="if True:")
    analysis = run(code)
    assert kinds(analysis) == {"no_grad_missing_in_eval": [line_of(code, "outputs = model(inputs)")]}
    assert analysis.facts["no_grad_in_eval"] is False


def test_only_phase_names_make_a_phase_loop():
    assert is_phase_list(["train", "val"]) and is_phase_list(("train", "valid", "test"))
    assert not is_phase_list(["resnet18", "vgg11"]) and not is_phase_list(["train"]) and not is_phase_list([1, 2])


# -- checkpointing and validation facts -------------------------------------------------------------

HELPER_SAVE = """\
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as transforms
from torch.utils.data import DataLoader, Subset
from utils import save_checkpoint

full = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=transforms.ToTensor())
testset = torchvision.datasets.CIFAR10("data", train=False, download=True, transform=transforms.ToTensor())
train_loader = DataLoader(Subset(full, range(45000)), batch_size=128, shuffle=True)
val_loader = DataLoader(Subset(full, range(45000, 50000)), batch_size=256)
test_loader = DataLoader(testset, batch_size=256)
model = nn.Sequential(nn.Flatten(), nn.Linear(3072, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()


def evaluate(loader):
    model.eval()
    hits = 0
    with torch.no_grad():
        for x, y in loader:
            hits += (model(x).argmax(1) == y).sum().item()
    return hits / len(loader.dataset)


best_acc = 0.0
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()
    acc = evaluate(val_loader)
    if acc > best_acc:
        best_acc = acc
        save_checkpoint(model, "best.pt")
print("test", evaluate(test_loader))
"""
UTILS = """\
import torch


def save_checkpoint(model, path):
    torch.save(model.state_dict(), path)
"""


def test_a_save_through_a_helper_under_the_best_comparison_is_on_a_new_best():
    analysis = run(HELPER_SAVE, utils=UTILS)
    assert analysis.extra["checkpointing"] == {"what": "state_dict", "when": "on a new best"}


def test_a_helper_called_every_epoch_saves_every_epoch():
    code = HELPER_SAVE.replace('        save_checkpoint(model, "best.pt")', "")
    code = code.replace("    acc = evaluate(val_loader)", '    acc = evaluate(val_loader)\n    save_checkpoint(model, "last.pt")')
    code = code.replace("    if acc > best_acc:\n        best_acc = acc\n", "    best_acc = max(best_acc, acc)\n")
    assert run(code, utils=UTILS).extra["checkpointing"]["when"] == "every epoch"


def test_a_save_in_the_else_of_the_best_comparison_is_not_on_a_new_best():
    for save in ('save_checkpoint(model, "last.pt")', 'torch.save(model.state_dict(), "last.pt")'):
        code = HELPER_SAVE.replace('        save_checkpoint(model, "best.pt")\n', f'        print("new best")\n    else:\n        {save}\n')
        assert run(code, utils=UTILS).extra["checkpointing"]["when"] == "every epoch", save


def test_a_periodic_save_in_the_elif_of_the_best_comparison_is_not_on_a_new_best():
    periodic = '        print("new best")\n    elif epoch % 5 == 0:\n        save_checkpoint(model, "periodic.pt")\n'
    code = HELPER_SAVE.replace('        save_checkpoint(model, "best.pt")\n', periodic)
    assert run(code, utils=UTILS).extra["checkpointing"]["when"] != "on a new best"  # every 5 epochs: the facts say "every epoch"


def test_validation_is_the_data_evaluated_during_training_not_the_final_test():
    analysis = run(HELPER_SAVE, utils=UTILS)
    assert analysis.extra["validation"] == "a split of the training set" and analysis.findings == []


def test_validation_on_the_test_set_during_training_is_said():
    code = HELPER_SAVE.replace("acc = evaluate(val_loader)", "acc = evaluate(test_loader)")
    assert run(code, utils=UTILS).extra["validation"] == "the test set"


# -- mixed precision switched by a command-line flag -------------------------------------------------

AMP_TRAIN = """\
def train_epoch():
    model.train()
    for inputs, targets in trainloader:
        optimizer.zero_grad()
        with torch.autocast(device_type=device.type, enabled=args.amp):
            loss = criterion(model(inputs), targets)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
"""


def amp_script(action: str) -> str:
    flags = f"parser = argparse.ArgumentParser()\nparser.add_argument('--amp', action='{action}')\nargs = parser.parse_args()\n"
    header = PARTS["header"] + flags
    setup = PARTS["setup"] + "scaler = torch.cuda.amp.GradScaler(enabled=args.amp)\n"
    return script(header=header, setup=setup, train=AMP_TRAIN)


def test_amp_behind_a_flag_that_is_off_by_default_is_full_precision():
    assert run(amp_script("store_true")).facts["mixed_precision"] is False


def test_amp_behind_a_flag_that_is_on_by_default_is_mixed_precision():
    assert run(amp_script("store_false")).facts["mixed_precision"] is True
