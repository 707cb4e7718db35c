"""An IP-Adapter on the tiny SD model: an image encoder built from config and adapter
weights made here (``tiny.save_tiny_ip_adapter``), loaded through diffusers' own loader.
ip_scale and the image prompt change the picture, 0 is the model without it, an image
is encoded only when it changes, and neither recompiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from performer.control.clock import FakeClock
from performer.control.events import Event, Inbox
from performer.control.osc import OscRouter, encode
from performer.control.params import ParamStore, Snapshot
from performer.mappings.tables import PatchError

from performer.generators import GeneratorError, load_generator
from performer.generators.base import Setup
from performer.generators.diffusion import DiffusersGenerator
from performer.generators.ipadapter import ScaledValues
from performer.generators.tiny import save_tiny_ip_adapter
from performer.patch import loads

RNG = np.random.default_rng(0)
PICTURE = RNG.integers(0, 256, (40, 56, 3), dtype=np.uint8)  # the image prompt's file
LIVE = RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def adapter(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image

    folder = save_tiny_ip_adapter(tmp_path_factory.mktemp("ip"), tiny_models["sd"])
    Image.fromarray(PICTURE).save(folder / "ref.png")
    return folder


def make(folder: Path, **kwargs: object) -> DiffusersGenerator:
    gen = DiffusersGenerator(str(folder), **kwargs)  # type: ignore[arg-type]
    gen.prepare(Setup(32, 32, {1850.0: "daguerreotype", 1990.0: "vhs tape"}))
    return gen


def prompted(folder: Path, adapter: Path, **kwargs: object) -> DiffusersGenerator:
    return make(folder, ip_adapter=str(adapter), ip_image=str(adapter / "ref.png"), **kwargs)


def snap() -> Snapshot:
    return ParamStore({"prompt": "a street", "timestep": 1.0}).snapshot()


def frame(gen: DiffusersGenerator, s: Snapshot, live: np.ndarray | None = None) -> np.ndarray:
    gen.reset()
    return gen(s, live)


def encodes(gen: DiffusersGenerator) -> list[int]:
    """A list that grows by one each time the image encoder runs."""
    calls: list[int] = []
    assert gen.ip is not None
    gen.ip.encoder.register_forward_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("guidance", [0.0, 2.0])  # 2: the guided batch, uncond image zeros
def test_ip_scale_is_a_knob_and_zero_is_no_adapter(
    tiny_models: dict[str, Path], adapter: Path, guidance: float
) -> None:
    plain, ip = make(tiny_models["sd"]), prompted(tiny_models["sd"], adapter)
    try:
        s = snap().replace(guidance=guidance)
        without, full = frame(plain, s), frame(ip, s)
        half = frame(ip, s.replace(ip_scale=0.5))
        assert not np.array_equal(full, without) and not np.array_equal(half, full)
        assert np.array_equal(frame(ip, s.replace(ip_scale=0.0)), without)
        assert np.array_equal(frame(ip, s), full), "back to 1: the same picture again"
    finally:
        plain.close()
        ip.close()


@torch.inference_mode()
def test_the_scaled_values_are_diffusers_own_scale(
    tiny_models: dict[str, Path], adapter: Path
) -> None:
    """The processors' Python scale at 0.5 and ip_scale at 1, against the other way round."""
    ip = prompted(tiny_models["sd"], adapter)
    assert ip.ip is not None
    processors = [p for p in ip.unet.attn_processors.values() if hasattr(p, "to_v_ip")]
    assert processors and all(isinstance(v, ScaledValues) for p in processors for v in p.to_v_ip)
    x = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(1))
    text = torch.randn(1, 77, 32, generator=torch.Generator().manual_seed(2))
    image = [ip.ip.encode(PICTURE)[None]]

    def unet(ours: float, theirs: float) -> torch.Tensor:
        ip.ip.scale.fill_(ours)
        for p in processors:
            p.scale = [theirs]
        cond = {"image_embeds": image}
        return ip.unet(x, 500, encoder_hidden_states=text, added_cond_kwargs=cond).sample

    try:
        torch.testing.assert_close(unet(0.5, 1.0), unet(1.0, 0.5))
        assert not torch.allclose(unet(0.5, 1.0), unet(1.0, 1.0))
    finally:
        for p in processors:
            p.scale = [1.0]
        ip.close()


def test_each_image_prompt_and_its_encoding_once(
    tiny_models: dict[str, Path], adapter: Path
) -> None:
    plain, ip = make(tiny_models["sd"]), prompted(tiny_models["sd"], adapter)
    try:
        calls = encodes(ip)
        s = snap()
        without, from_file = frame(plain, s), frame(ip, s)
        assert not calls, "the file was encoded once, when the generator was prepared"
        # live input: encoded once per new input frame, the same frame never again
        from_live = frame(ip, s.replace(ip_source=1), LIVE)
        frame(ip, s.replace(ip_source=1), LIVE)
        assert len(calls) == 1 and not np.array_equal(from_live, from_file)
        frame(ip, s.replace(ip_source=1), LIVE.copy())
        assert len(calls) == 2
        # a grab: nothing grabbed yet is no image prompt, then the frame before it is
        grab = s.replace(ip_source=2)
        assert np.array_equal(frame(ip, grab), without)
        ip(grab)
        grabbed = ip(grab.replace(ip_grab=1))
        assert len(calls) == 3 and not np.array_equal(grabbed, without)
        ip(grab.replace(ip_grab=1))
        assert len(calls) == 3, "a grab is encoded once"
        assert np.array_equal(frame(ip, s), from_file), "back to the file, not encoded again"
        assert len(calls) == 3
    finally:
        plain.close()
        ip.close()


def test_a_grab_replays_the_same_frames(tiny_models: dict[str, Path], adapter: Path) -> None:
    takes = []
    for _ in range(2):
        ip = make(tiny_models["sd"], ip_adapter=str(adapter))
        try:
            s = snap().replace(timestep=0.6, ip_source=2)
            frames = [ip(s), ip(s), ip(s.replace(ip_grab=1)), ip(s.replace(ip_grab=1))]
            takes.append(frames)
        finally:
            ip.close()
    assert all(np.array_equal(a, b) for a, b in zip(*takes, strict=True))


def test_sdxl_takes_an_image_prompt_too(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    folder = save_tiny_ip_adapter(tmp_path, tiny_models["xl"])
    plain, ip = make(tiny_models["xl"]), make(tiny_models["xl"], ip_adapter=str(folder))
    try:
        s = snap().replace(ip_source=1)
        assert not np.array_equal(frame(ip, s, LIVE), frame(plain, s, LIVE))
        assert np.array_equal(frame(ip, s.replace(ip_scale=0.0), LIVE), frame(plain, s, LIVE))
    finally:
        plain.close()
        ip.close()


@pytest.mark.slow
def test_image_prompts_and_ip_scale_never_recompile(
    tiny_models: dict[str, Path], adapter: Path
) -> None:
    from torch._dynamo.utils import counters

    reference = prompted(tiny_models["sd"], adapter)
    fast = prompted(tiny_models["sd"], adapter, compile="eager")
    try:
        compiled = counters["stats"]["unique_graphs"]
        assert compiled >= 3
        s = snap().replace(timestep=0.6)
        turns = [
            s,
            s.replace(ip_scale=0.0),
            s.replace(ip_scale=0.4, guidance=2.0),
            s.replace(ip_scale=2.0, ip_source=1),
            s.replace(ip_scale=1.0, ip_source=2, ip_grab=1),
            s.replace(ip_scale=0.0, ip_source=2, ip_grab=2, guidance=1.0),
        ]
        for k, turn in enumerate(turns):
            live = np.roll(LIVE, k, axis=0)  # a new input frame each frame
            a, b = reference(turn, live), fast(turn, live)
            assert np.abs(a.astype(int) - b.astype(int)).max() <= 2, f"after {dict(turn)}"
        assert counters["stats"]["unique_graphs"] == compiled, "an image prompt recompiled"
    finally:
        reference.close()
        fast.close()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graphs_play_image_prompts(tiny_models: dict[str, Path], adapter: Path) -> None:
    from torch._dynamo.utils import counters

    reference = prompted(tiny_models["sd"], adapter, device="cuda")
    fast = prompted(tiny_models["sd"], adapter, device="cuda", compile=True, cuda_graphs=True)
    try:
        compiled = counters["stats"]["unique_graphs"]
        s = snap().replace(timestep=0.6)
        without = None
        for turn in (s.replace(ip_scale=0.0), s, s.replace(ip_source=1, guidance=2.0)):
            reference.reset(LIVE)
            fast.reset(LIVE)
            a, b = reference(turn, LIVE), fast(turn, LIVE)
            assert np.abs(a.astype(int) - b.astype(int)).mean() < 4, f"after {dict(turn)}"
            if without is None:
                without = b
            else:
                assert not np.array_equal(b, without), "the image prompt plays in the graph"
        assert counters["stats"]["unique_graphs"] == compiled
    finally:
        reference.close()
        fast.close()


def test_a_missing_adapter_or_image_is_one_clear_error(
    tiny_models: dict[str, Path], adapter: Path, tmp_path: Path
) -> None:
    with pytest.raises(GeneratorError, match=r"IP-Adapter image '.*nope\.png': no such file"):
        load_generator(str(tiny_models["sd"]), ip_adapter=str(adapter), ip_image="nope.png")
    (tmp_path / "bad.png").write_bytes(b"not a picture")
    with pytest.raises(GeneratorError, match=r"IP-Adapter image .*: not a usable picture"):
        load_generator(
            str(tiny_models["sd"]), ip_adapter=str(adapter), ip_image=str(tmp_path / "bad.png")
        )
    for source, error in [("./no/such/adapter", "IP-Adapter not found"), (tmp_path, "found 0")]:
        gen = DiffusersGenerator(str(tiny_models["sd"]), ip_adapter=str(source))
        with pytest.raises(GeneratorError, match=error):
            gen.prepare(Setup(32, 32, {}))


def test_a_patch_declares_its_ip_adapter(tmp_path: Path) -> None:
    patch_file = tmp_path / "show.toml"
    text = '[ip_adapter]\nsource = "./ip"\nimage = "refs/a.png"\nscale = 0.5\n'
    patch = loads(text, path=patch_file)
    assert patch.ip_adapter == str(tmp_path / "ip")
    assert patch.ip_image == str(tmp_path / "refs/a.png")
    assert patch.params == {"ip_source": 0, "ip_scale": 0.5}
    grab = loads('[ip_adapter]\nsource = "h94/IP-Adapter"\nimage = "grab"\n')
    assert (grab.ip_adapter, grab.ip_image, grab.params) == (
        "h94/IP-Adapter",
        None,
        {"ip_source": 2},
    )
    assert loads("").ip_adapter is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("ip_adapter = 1", "ip_adapter: expected a table"),
        ("[ip_adapter]\nimage = 'input'", "ip_adapter.source: required"),
        ('[ip_adapter]\nsource = "a/b"\nimage = "/etc/passwd"', "ip_adapter.image: a file must"),
        ('[ip_adapter]\nsource = "a/b"\nimage = "../x.png"', "a file must lie in the patch"),
        ('[ip_adapter]\nsource = "../../ip"', "ip_adapter.source: '../../ip': expected a Hugging"),
        ('[ip_adapter]\nsource = "a/../../b"', "expected a Hugging Face id"),
        ('[ip_adapter]\nsource = "a/b"\nscale = 3', "expected a number in 0..2"),
        ('[ip_adapter]\nsource = "a/b"\nweight = 1', "unknown key"),
        ('[ip_adapter]\nsource = "a/b"\nscale = 1\n[params]\nip_scale = 1', "set by"),
    ],
)
def test_bad_ip_adapters_are_one_line_errors(text: str, error: str) -> None:
    with pytest.raises(PatchError, match=error) as caught:
        loads(text)
    assert "\n" not in str(caught.value)


def test_the_command_line_takes_an_ip_adapter() -> None:
    from performer.cli import build_parser

    args = build_parser().parse_args(
        ["play", "--ip-adapter", "h94/IP-Adapter", "--ip-image", "a.png"]
    )
    assert (args.ip_adapter, args.ip_image) == ("h94/IP-Adapter", "a.png")


def test_osc_and_the_key_grab_the_picture() -> None:
    from performer.generators.embedded import EmbeddedGenerator
    from performer.session import Session

    router = OscRouter(Inbox(), FakeClock(10.0), ParamStore())
    router.handle(encode("/performer/ip/grab"), ("127.0.0.1", 50000))
    assert [(e.source, e.value) for e in router.inbox.drain()] == [("ip/grab", True)]
    session = Session(loads(""), EmbeddedGenerator(), clock=FakeClock(1.0))
    for n in (1, 2):
        session.apply([Event(1.0, "ip/grab", True)], 1.0)
        assert (session.store.get("ip_grab"), session.store.get("ip_source")) == (n, 2)
