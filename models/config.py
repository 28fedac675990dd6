"""Inference configuration: one dataclass that the UI, the command line and the ONNX
metadata all read their defaults from (and its bounds, through :mod:`models.settings`)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Tuple

from .settings import check_settings, setting

IMAGENET_MEAN: Tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: Tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DetectorConfig:
    """Every knob of one detection, with the defaults we ship.

    ``thresh`` is the seed WebUI's "detection threshold" slider (default 0.2): the
    probability above which a pixel counts as text. ``box_thresh`` then drops whole
    regions whose mean probability is low.
    """

    thresh: float = setting(0.35, "detection (binarisation) threshold: pixels whose text probability is above it "
                            "count as text (0.35 for release 2, tuned on the validation splits: weights/MODEL_CARD.md)", min=0.0, max=1.0, step=0.01)
    box_thresh: float = setting(0.45, "minimum mean probability of a box (tuned: weights/MODEL_CARD.md)",
                                min=0.0, max=1.0, step=0.01)
    unclip_ratio: float = setting(1.4, "box expansion ratio: the DB offset D = area * ratio / perimeter that grows "
                                  "the shrunk text kernel back (tuned)", min=0.5, max=5.0, step=0.1)
    lines_shift: float = setting(0.0, "an image read by line (a page, receipt, form; Chinese text) is binarised at "
                                 "thresh plus this and its boxes kept from box_thresh plus this (scene photos, read by "
                                 "word, keep thresh). 0.05 over 0.3 / 0.4 was the default of 2026-11-28; since the "
                                 "wider script guard every image takes 0.35 / 0.45 instead (weights/TRAINING_LOG.md, "
                                 "\"A wider script guard\")", min=0.0, max=0.5, step=0.01)
    max_candidates: int = setting(1000, "contours examined per image (the largest are kept)", min=1)
    min_size: int = setting(3, "drop boxes whose short side (in input pixels) is smaller", min=0)
    score_mode: str = setting("fast", "box score: 'fast' = mean over the box, 'slow' = mean over the polygon",
                              choices=("fast", "slow"))
    box_type: str = setting("quad", "'quad': min-area quadrilaterals; 'poly': polygons as well",
                            choices=("quad", "poly"))
    granularity: str = setting("auto", "'auto': words on scene photos (few lines on a busy background), lines "
                               "on documents, screens and plain designs, and Chinese, Japanese and Korean lines "
                               "always whole (models/granularity.py); 'lines': a box per text line; 'words': "
                               "every Latin line cut into words at the gaps of the probability map (the ICDAR "
                               "scene-text convention); measured in weights/MODEL_CARD.md",
                               choices=("lines", "words", "auto"))
    word_gap: float = setting(0.8, "words: a gap is where the probability along the line stays below this fraction "
                              "of the line's typical level (higher cuts more)", min=0.0, max=1.0, step=0.05)
    word_gap_width: float = setting(0.3, "words: the narrowest gap, in line heights", min=0.0, max=5.0, step=0.05)
    word_map: bool = setting(True, "auto and words, with a network that has a word map (the release since "
                             "2026-11-27): take the words from it; off: cut the lines at the gaps of the line map, "
                             "as for a network without one (street photos 36 % faster on a 2-core CPU, "
                             "their word boxes worse; documents are read by line and unaffected either way)")
    word_map_gap_width: float = setting(1.0, "words, with a network that has a word map: a region of the word map "
                                        "is cut further only at gaps at least this many of its heights wide (the "
                                        "word map already parts the words; narrower dips are letter spacing or a "
                                        "fold across a word: weights/TRAINING_LOG.md)", min=0.0, max=5.0, step=0.05)
    zoom_words: float = setting(1.75, "an image read by word (under auto: a scene photo) is read a second time "
                                "enlarged by this factor, in the window around its text (zoom_margin), and the two "
                                "maps averaged (models/zoom.py): on 499 street photos 0.532 -> 0.579 hmean for about "
                                "2.5x its time (1.5: 0.571, a smaller second look); documents, read by line, run once either way; 1 = off; "
                                "the GPU folder stream (--engine gpu) reads every image once (weights/TRAINING_LOG.md, "
                                "\"The zoom look in a window\")", min=1.0, max=2.0, step=0.05)
    zoom_margin: int = setting(64, "zoom look: only the window around the first look's text (map > 0.2) is read "
                               "enlarged, this many pixels wider on every side, then a quarter to all of each side "
                               "(on street photos about 55 % of the input, the same hmean within noise; a larger "
                               "margin reads more of the image)", min=0, max=4096, step=32)
    zoom_cjk: float = setting(1.25, "zoom look for an image with a line the script guard keeps whole as CJK "
                              "(Chinese, Japanese, Korean): the whole image, enlarged at most this much (1 = once); "
                              "larger looks cut mixed Chinese and Latin lines into words (rendered packaging 0.748 "
                              "at 1.25, 0.689 at 1.75 in a window: weights/TRAINING_LOG.md, \"The zoom look in a "
                              "window\")", min=1.0, max=2.0, step=0.05)
    mirror_words: bool = setting(False, "an image read by word (under auto: a scene photo) without a line kept "
                                 "whole as CJK is also run mirrored left to right and the maps averaged "
                                 "(models/mirror.py): the default from 2026-11-27 to 2026-11-28, when 399 more "
                                 "street photos showed it no better than one look on average (weights/TRAINING_LOG.md, "
                                 "\"The zoom look\")")
    mirror_margin: int = setting(64, "mirror look: the mirror image is read only in the window around the first "
                                 "look's text (map > 0.2), this many pixels wider on every side, then a quarter to all "
                                 "of each side (the same boxes within noise, a street photo 13-24 % faster; a "
                                 "larger margin reads more of the image)", min=0, max=4096, step=32)
    words_max_lines: int = setting(15, "auto: cut into words when the image has at most this many lines "
                                   "(documents have more; 15 since 2026-11-28, 10 before: web graphics +5 "
                                   "points, weights/TRAINING_LOG.md, \"The zoom look\")", min=0)
    words_min_edges: float = setting(0.02, "auto: cut into words only when the background, outside the text, has "
                                     "at least this fraction of edge pixels (street scenes do; paper, screens and "
                                     "plain designs don't); 0 = any background", min=0.0, max=1.0, step=0.01)
    cjk_guard: float = setting(0.7, "auto and words: a line that the script guard finds Chinese, Japanese or "
                               "Korean with at least this probability stays one box (CJK is read by line); "
                               "1 = cut every line (0.7 since the guard learned the detector's own boxes: "
                               "weights/TRAINING_LOG.md, \"A wider script guard\")", min=0.0, max=1.0, step=0.05)
    use_dilation: bool = setting(False, "2x2 dilation of the bitmap (joins broken strokes)", in_params=False)
    limit_side: int = setting(1280, "size limit in pixels (see --limit-type; 1280: small receipt text survives)",
                              min=32, max=4096, step=32, ui_min=256, ui_max=2048)
    limit_type: str = setting("max", "size policy: 'max' = long side <= limit side, 'min' = short side >= limit "
                              "side, 'long' = long side = limit side (small images are enlarged)",
                              choices=("max", "min", "long"))
    min_short_ratio: float = setting(0.75, "with 'max': the short side is not shrunk below this fraction of the "
                                     "limit side (960 px at 1280: tall receipts and scans keep their small text; "
                                     "the long side may then pass the limit, up to max side; 4:3 photos are "
                                     "unchanged); 0 = off", min=0.0, max=1.0, step=0.05)
    min_long_ratio: float = setting(0.5, "with 'max': smaller images are enlarged until their long side reaches "
                                    "this fraction of the limit side (640 px at 1280: small web graphics, banners and "
                                    "small photos get pixels for their text), by at most max upscale; 0 = never "
                                    "enlarge",
                                    min=0.0, max=1.0, step=0.05)
    max_upscale: float = setting(4.0, "with 'max' and min long ratio: the most an image is enlarged",
                                 min=1.0, max=16.0, step=0.5)
    max_side: int = setting(2048, "hard cap on the long side in pixels, whatever the policy", min=32, max=8192)
    max_megapixels: float = setting(40.0, "decoded images above this many megapixels are refused", gt=0.0,
                                    in_params=False)
    mean: Tuple[float, float, float] = setting(IMAGENET_MEAN, "RGB normalisation mean", cli=False, in_params=False)
    std: Tuple[float, float, float] = setting(IMAGENET_STD, "RGB normalisation std", cli=False, in_params=False)

    def __post_init__(self) -> None:
        check_settings(self, "detector")

    def with_overrides(self, **overrides: Any) -> "DetectorConfig":
        """A copy with the given fields changed; ``None`` values are ignored."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown detector setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["mean"], d["std"] = list(self.mean), list(self.std)
        return d

    @property
    def line_cut(self) -> Tuple[float, float]:
        """(thresh, box_thresh) for an image read by line: each ``lines_shift`` higher, at most 1
        (the CPU post-processing and the GPU stream's bitmap share this)."""
        return min(self.thresh + self.lines_shift, 1.0), min(self.box_thresh + self.lines_shift, 1.0)

    def params(self) -> Dict[str, Any]:
        """The settings recorded in each result's JSON (``params`` key); resuming compares them."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("in_params", True)}
