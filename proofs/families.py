"""Demo family ids and titles, importable without torch (the app builds its Lab pages from them)."""

DEMO_FAMILIES: dict[str, str] = {
    "batchnorm": "BatchNorm",
    "regularisation": "Dropout",
    "autograd": "Autograd",
    "gradients": "Gradient checks",
    "residual": "Residual connections",
    "init": "Initialisation",
    "losses": "Losses",
    "shapes": "Shapes and sizes",
    "optim": "Optimisers",
    "schedules": "LR schedules",
    "augmentation": "Augmentation",
    "data": "Data",
    "precision": "Precision",
    "evaluation": "Evaluation and Grad-CAM",
    "reproducibility": "Reproducibility",
    "transfer": "Transfer learning (ResNet50)",
    "architecture": "Architecture choices",
    "training": "The training script",
    "loop": "Around the loop: main(), schedulers, loaders, DDP",
    "gpu": "GPU only",
}
