"""The models the trainers can build, by name: kept free of torch so configurations can be checked
(and the lab's form drawn) before torch loads."""

MODEL_NAMES = ("simplecnn", "resnet9", "fastnet", "resnet18", "resnet50")
FIXED_SIZE_MODELS = ("simplecnn",)  # Linear(128 * 4 * 4) expects exactly 32x32 inputs
