"""The periodic sampler's last sample begins after its stop was asked: the samples span the
whole time it ran, even when a sample is under way or the sampler waits out its interval."""

from __future__ import annotations

import threading
import time

from dnsrace.scenarios.sampling import PeriodicSampler


class Recorder(PeriodicSampler):
    def __init__(self, interval: float, first_takes: float) -> None:
        super().__init__("recorder", interval)
        self.first_takes = first_takes
        self.began: list[float] = []
        self.sampling = threading.Event()

    def sample(self) -> None:
        self.began.append(time.monotonic())
        self.sampling.set()
        if len(self.began) == 1:
            time.sleep(self.first_takes)

    def write(self) -> None:
        pass


def test_a_stop_during_the_interval_gets_one_more_sample() -> None:
    sampler = Recorder(interval=3600, first_takes=0).start()
    assert sampler.sampling.wait(10)
    asked = time.monotonic()
    sampler.stop()
    assert len(sampler.began) == 2
    assert sampler.began[-1] >= asked


def test_a_stop_during_a_sample_gets_one_more_sample() -> None:
    sampler = Recorder(interval=3600, first_takes=0.5).start()
    assert sampler.sampling.wait(10)
    asked = time.monotonic()  # the first sample is still under way
    sampler.stop()
    assert sampler.began[0] < asked <= sampler.began[-1]
