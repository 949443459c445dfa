# CIFAR-10 with Keras (TF 2.x)
# python cifar10_keras.py
import numpy as np
import matplotlib.pyplot as plt
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.datasets import cifar10
from tensorflow.keras.utils import to_categorical

print("TF version:", tf.__version__)
print("GPUs:", tf.config.list_physical_devices('GPU'))

NUM_CLASSES = 10
BATCH_SIZE = 64
EPOCHS = 30
INIT_LR = 1e-3

(x_train, y_train), (x_test, y_test) = cifar10.load_data()
print(x_train.shape, y_train.shape, x_test.shape)

x_train = x_train.astype('float32') / 255.0
x_test = x_test.astype('float32') / 255.0
y_train = to_categorical(y_train, NUM_CLASSES)
y_test = to_categorical(y_test, NUM_CLASSES)


def step_decay(epoch, lr):
    # halve every 10 epochs
    return INIT_LR * (0.5 ** (epoch // 10))


model = keras.Sequential([
    layers.Input(shape=(32, 32, 3)),
    layers.RandomFlip('horizontal'),
    layers.RandomTranslation(0.1, 0.1),

    layers.Conv2D(32, (3, 3), padding='same', activation='relu'),
    layers.BatchNormalization(),
    layers.Conv2D(32, (3, 3), padding='same', activation='relu'),
    layers.MaxPooling2D((2, 2)),
    layers.Dropout(0.25),

    layers.Conv2D(64, (3, 3), padding='same', activation='relu'),
    layers.BatchNormalization(),
    layers.Conv2D(64, (3, 3), padding='same', activation='relu'),
    layers.MaxPooling2D((2, 2)),
    layers.Dropout(0.25),

    layers.Flatten(),
    layers.Dense(256, activation='relu'),
    layers.Dropout(0.5),
    layers.Dense(NUM_CLASSES, activation='softmax'),
])
model.summary()

model.compile(optimizer=keras.optimizers.Adam(learning_rate=INIT_LR),
              loss='categorical_crossentropy',
              metrics=['accuracy'])

callbacks = [
    keras.callbacks.LearningRateScheduler(step_decay, verbose=1),
    keras.callbacks.ModelCheckpoint('best_model.keras', monitor='val_accuracy',
                                    save_best_only=True, verbose=1),
]

history = model.fit(x_train, y_train,
                    batch_size=BATCH_SIZE,
                    epochs=EPOCHS,
                    validation_data=(x_test, y_test),
                    callbacks=callbacks,
                    shuffle=True)

best = keras.models.load_model('best_model.keras')
loss, acc = best.evaluate(x_test, y_test, verbose=0)
print('Test accuracy: %.4f' % acc)

plt.plot(history.history['accuracy'], label='train')
plt.plot(history.history['val_accuracy'], label='val')
plt.legend()
plt.savefig('acc.png')
