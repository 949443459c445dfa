"""Each kind of finding: why it matters in one sentence, and the bank items and demos that show it.
The detectors (findings.py, keras.py) say where and what; this says why and where to study it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    title: str
    why: str
    items: tuple[str, ...]
    demos: tuple[str, ...]
    topics: tuple[str, ...]


KINDS: dict[str, Kind] = {
    "selection_on_test_set": Kind(
        "Best checkpoint chosen on the test set",
        "the model you report was picked because it scored best on the test set, so its test accuracy is an optimistic estimate, "
        "not a measurement on unseen data; choose on a validation split and touch the test set once",
        (
            "viva-40-code-add-validation-set-separate",
            "viva-11-checkpointing-scheme-used-save-checkpoint",
            "keras-s2-q2-stratified-splitting-important",
        ),
        ("checkpoint-best-and-atomic", "stratified-split-proportions"),
        ("evaluation", "checkpointing"),
    ),
    "eval_without_eval_mode": Kind(
        "Evaluation without model.eval()",
        "in train mode dropout keeps dropping units and BatchNorm normalises each test batch with its own statistics, so the "
        "reported accuracy is noisy, lower, and depends on the batch size",
        (
            "viva-30-purpose-model-train-model-eval",
            "resnet-27-model-eval-doing",
            "viva-08-evaluation-different-training-eval-model",
            "fundamentals-15-model-trained-successfully-but-run",
        ),
        ("dropout-train-vs-eval", "bn-train-vs-eval"),
        ("batchnorm", "regularisation", "evaluation"),
    ),  # fmt: skip
    "no_grad_missing_in_eval": Kind(
        "Evaluation without torch.no_grad()",
        "autograd records a graph for every test batch and keeps the activations for a backward pass that never comes, "
        "so evaluation takes more memory and time than it needs; wrap it in torch.no_grad() or torch.inference_mode()",
        (
            "viva-27-torch-no-grad-used-eval",
            "resnet-52-torch-no-grad-used-validation",
            "fundamentals-05-difference-between-wrapping-operation-torch",
        ),
        ("no-grad-vs-detach",),
        ("autograd", "evaluation"),
    ),
    "eval_mode_not_reset": Kind(
        "model.eval() never switched back to model.train()",
        "after the first evaluation the model stays in eval mode, so from the second epoch on dropout is off and BatchNorm stops "
        "learning its running statistics while you train",
        ("resnet-28-model-train", "viva-30-purpose-model-train-model-eval"),
        ("dropout-train-vs-eval", "bn-train-vs-eval"),
        ("batchnorm", "regularisation", "training-loop"),
    ),
    "scheduler_stepped_per_batch": Kind(
        "Epoch-based scheduler stepped every batch",
        "its period counts epochs but it is stepped once per batch, so the schedule runs len(train_loader) times too fast: "
        "StepLR's decays all arrive in the first epoch, a cosine cycles every few dozen batches",
        (
            "viva-13-script-calls-scheduler-step-after",
            "viva-10-scheduler-used-change-learning-rate",
            "resnet-35-epoch-vs-batch-vs-iteration",
        ),
        ("scheduler-step-placement", "steplr-curve", "steps-per-epoch"),
        ("lr-schedules",),
    ),
    "onecycle_per_epoch": Kind(
        "One Cycle stepped once per epoch",
        "OneCycleLR is sized in batches (epochs x steps_per_epoch) but stepped once per epoch, so it never leaves its warm-up: "
        "the learning rate stays near its starting value for the whole run",
        ("resnet-13-one-cycle-policy", "resnet-46-compute-len-train-loader"),
        ("onecycle-curve", "onecycle-total-steps"),
        ("lr-schedules",),
    ),
    "test_set_augmented": Kind(
        "Random augmentation on the test set",
        "random crops and flips on the test images make every evaluation different (and usually worse): augmentation belongs to "
        "training, the test set gets only the deterministic steps (ToTensor, Normalize)",
        ("keras-s4-q3-augmentation-only-applied-during-training", "resnet-38-test-loader-differ-train-loader"),
        ("augmentation-only-in-training", "train-vs-eval-loader"),
        ("augmentation", "evaluation"),
    ),
    "validation_overlaps_train": Kind(
        "Validation data that is also training data",
        "the images you validate on are also trained on, so validation accuracy measures memory rather than generalisation and "
        "cannot tell you when to stop",
        ("viva-40-code-add-validation-set-separate", "keras-s2-q2-stratified-splitting-important"),
        ("stratified-split-proportions",),
        ("evaluation", "data-pipeline"),
    ),
    "optimizer_bound_to_old_model": Kind(
        "Optimizer bound to a model that was replaced",
        "the optimizer holds the parameters of the model built before; the model trained afterwards is a different object, so "
        "optimizer.step() never changes it",
        (
            "fundamentals-06-freezing-example-set-param-requires",
            "viva-12-resume-training-saved-checkpoint-project",
            "viva-25-demonstrate-save-both-model-optimizer",
        ),
        ("frozen-layer-not-in-optimizer", "save-resume-next-step"),
        ("optimisers", "checkpointing"),
    ),  # fmt: skip
    "imagenet_head_kept": Kind(
        "1000-class ImageNet head kept for a 10-class problem",
        "the pretrained head outputs 1000 scores; with 10 classes, 990 of them can never be right and the loss still spreads "
        "probability over them: replace the last layer (model.fc = nn.Linear(in_features, 10))",
        ("viva-24-incorporate-transfer-learning-using-torchvisions", "keras-s5-q2-include-top-false"),
        ("resnet50-input-size",),
        ("transfer-learning",),
    ),
    "argparse_type_bool": Kind(
        "argparse type=bool",
        "type=bool turns every non-empty string into True, so `--flag False` switches the option on; use action='store_true'",
        (),
        (),
        ("training-loop",),
    ),
    "missing_zero_grad": Kind(
        "Gradients never zeroed between batches",
        "without optimizer.zero_grad() each backward() adds to the gradients of all earlier batches, so every step follows a "
        "growing sum of old gradients",
        (
            "viva-16-optimizer-zero-grad-required-before",
            "viva-07-train-epoch-core-steps-per",
            "fundamentals-04-pytorch-accumulates-gradients-default-optimizer",
        ),
        ("grad-accumulates",),
        ("autograd", "training-loop"),
    ),
    "zero_grad_misplaced": Kind(
        "zero_grad() between backward() and step()",
        "zeroing the gradients after backward() and before step() throws away the gradients just computed, so step() moves "
        "nothing (or only by weight decay) and the model does not learn",
        ("viva-16-optimizer-zero-grad-required-before", "viva-07-train-epoch-core-steps-per"),
        ("grad-accumulates",),
        ("autograd", "training-loop"),
    ),
    "softmax_before_cross_entropy": Kind(
        "Softmax before CrossEntropyLoss",
        "CrossEntropyLoss applies log-softmax itself; a softmax before it squashes the logits into [0, 1], so the loss can barely "
        "fall and the gradients shrink (log_softmax there would change nothing)",
        ("viva-31-crossentropyloss-input-expectations-common-pitfall", "resnet-51-role-loss-function"),
        ("ce-double-softmax",),
        ("losses",),
    ),
    "loss_accumulated_with_graph": Kind(
        "Loss tensors accumulated with their graphs",
        "adding the loss tensor itself (not loss.item()) keeps every batch's computation graph alive, so memory grows through "
        "the epoch until it runs out",
        ("viva-22-plot-curves-multiply-loss-batch", "fundamentals-05-difference-between-wrapping-operation-torch"),
        ("running-loss-per-sample-mean", "no-grad-vs-detach"),
        ("autograd", "training-loop"),
    ),
    "cuda_without_check": Kind(
        ".cuda() without a device check",
        "the script assumes a GPU: on a machine without CUDA it stops at this line; pick the device with "
        "torch.device('cuda' if torch.cuda.is_available() else 'cpu')",
        (
            "resnet-55-check-torch-cuda-available",
            "resnet-40-wrap-model-device",
            "fundamentals-01-getting-runtimeerror-expected-object-device",
        ),
        ("device-mismatch-error",),
        ("tensors",),
    ),
    "torch_load_without_weights_only": Kind(
        "torch.load without weights_only",
        "torch.load unpickles the file, and a pickle can run code: pass weights_only=True for checkpoints (the default from "
        "torch 2.6, where loading a whole pickled model then fails)",
        ("viva-47-safety-checks-add-before-saving", "viva-12-resume-training-saved-checkpoint-project"),
        ("checkpoint-best-and-atomic",),
        ("checkpointing",),
    ),
    "deprecated_pretrained_argument": Kind(
        "Deprecated pretrained=True",
        "torchvision deprecated pretrained=True in 0.13; weights=ResNet18_Weights.DEFAULT names the exact weights (and their "
        "preprocessing), and pretrained= will be removed",
        ("viva-24-incorporate-transfer-learning-using-torchvisions",),
        (),
        ("transfer-learning",),
    ),
    "train_loader_not_shuffled": Kind(
        "Training data not shuffled",
        "the training loader serves the batches in the same order every epoch (class by class when the data is sorted), so the "
        "gradients are biased batch to batch and the model learns the order",
        ("viva-39-dataloader-uses-shuffle-true-training", "resnet-16-shuffle-training-set-but-validation"),
        ("shuffle-vs-class-sorted",),
        ("data-pipeline",),
    ),
    "code_at_import": Kind(
        "Code that acts when its module is imported",
        "this module runs a shell command or opens a connection as soon as it is imported; the analyser never ran it (it imports "
        "only definitions, inside the contained runner), but anyone importing your model file would",
        (),
        (),
        ("deployment",),
    ),
    "blocked_in_runner": Kind(
        "Model code that tried to reach outside",
        "building the model tried to run a command, open a connection or write outside its folder; the contained runner "
        "refused it, so nothing escaped, and the model could not be measured",
        (),
        (),
        ("deployment",),
    ),
    "keras_softmax_from_logits": Kind(
        "Softmax output with from_logits=True",
        "the last Dense layer already applies softmax, and the loss is told the outputs are logits, so softmax is applied twice "
        "and the loss barely moves",
        ("viva-31-crossentropyloss-input-expectations-common-pitfall", "keras-s5-q4-custom-head-architecture"),
        ("ce-double-softmax",),
        ("losses", "keras"),
    ),
    "keras_preprocess_on_unit_range": Kind(
        "preprocess_input on pixels already scaled to [0, 1]",
        "Keras' ResNet50 preprocess_input expects 0-255 pixels and subtracts ImageNet means of about 100; on [0, 1] inputs every "
        "image becomes nearly the same, and frozen-base training stays at chance",
        ("keras-s6-q1-frozen-training-fail-10-accuracy", "keras-s3-q1-normalize-0-1-instead-1"),
        ("keras-preprocess-input-range",),
        ("transfer-learning", "keras"),
    ),
}
