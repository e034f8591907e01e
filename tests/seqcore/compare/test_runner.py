import keras
import numpy as np

import seqcore.training
from seqcore.backbone import RecurrentBackbone
from seqcore.classifier import SequenceClassifier
from seqcore.compare.runner import added_callbacks, epoch_timer, inference_latency_ms, read_history, recurrent_parameters


def test_recurrent_parameters_count_only_the_recurrent_layers():
    backbone = RecurrentBackbone(cell=["lstm", "gru"], units=4, bidirectional=True, vocabulary_size=50)
    model = SequenceClassifier(backbone, class_names=["a", "b"])
    # LSTM: 4 gates x (embedding 4 + units 4 + bias) x 4 units x 2 directions;
    # GRU over the 8-wide LSTM output: 3 x (8 + 4 + 2 biases) x 4 x 2 (reset_after).
    assert recurrent_parameters(model) == 4 * (4 + 4 + 1) * 4 * 2 + 3 * (8 + 4 + 2) * 4 * 2
    assert recurrent_parameters(model) < model.count_params()


def test_history_columns(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,accuracy,loss,val_loss\n0,0.5,0.7,0.69\n1,0.6,0.6,0.65\n")
    assert read_history(path) == {"accuracy": [0.5, 0.6], "loss": [0.7, 0.6], "val_loss": [0.69, 0.65]}


def test_epoch_timer_and_added_callbacks_reach_run_training():
    seen = []
    original = seqcore.training.run_training
    seqcore.training.run_training = lambda *args, extra_callbacks=(), **kwargs: seen.append(extra_callbacks)
    try:
        timer = epoch_timer()
        with added_callbacks(timer):
            seqcore.training.run_training("run", "config", extra_callbacks=["own"])
        assert seen == [["own", timer]]
    finally:
        seqcore.training.run_training = original
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.SimpleRNN(2), keras.layers.Dense(1)])
    model.compile(loss="mse")
    x, y = np.ones((8, 3, 2), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0, callbacks=[timer])
    assert len(timer.epoch_seconds) == 2 and all(s > 0 for s in timer.epoch_seconds)


def test_latency_per_example_with_the_preprocessor_inside():
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.GRU(3)])
    model.preprocessor = keras.layers.Rescaling(0.5)
    assert inference_latency_ms(model, np.ones((4, 5, 2), "float32"), preprocess=True, calls=3) > 0
