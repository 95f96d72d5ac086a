"""Find the parts of a page that must be read on their own: copies of cards.

An ID-card copy (身份证复印件) shows the card's two sides as grey, patterned rectangles on a
white page, small print on a guilloche background. Read with the page, Tesseract's layout
analysis takes each card for a picture and returns next to nothing; cut out, with the
pattern faded (only ink much darker than the card's own tone kept) and read as sparse text
(--psm 11), the same card reads almost whole.
"""

from __future__ import annotations

import cv2
import numpy as np

#: A card is a filled rectangle between these shares of the page's width (an ID-1 card is
#: 41% of an A4 page's width at 100%; a copy may be reduced)…
CARD_WIDTH = (0.25, 0.8)
#: …with the proportions of an ID-1 card (85.6 × 54 mm, 1.59) give or take a photocopier.
CARD_ASPECT = (1.3, 1.95)
#: …filling its bounding box (rounded corners, a shadow), and darker than the paper.
CARD_FILL = 0.85
CARD_DARKER = 18
#: Ink darker than this share of the card's background tone is kept; the pattern fades.
INK_SHARE = 0.7


def find_cards(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of card-like filled rectangles, top to bottom."""
    factor = 4
    small = cv2.resize(grey, (grey.shape[1] // factor, grey.shape[0] // factor),
                       interpolation=cv2.INTER_AREA)
    paper = float(np.percentile(small, 90))
    tone: np.ndarray = (small < paper - CARD_DARKER).astype(np.uint8)
    # Close the card's pattern into one blob, then open away text lines and table rules.
    tone = cv2.morphologyEx(tone, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    tone = cv2.morphologyEx(tone, cv2.MORPH_OPEN, np.ones((25, 25), np.uint8))
    contours, _ = cv2.findContours(tone, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    page_w = small.shape[1]
    boxes = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        area = cv2.contourArea(c)
        aspect = max(w, h) / max(1, min(w, h))
        if (CARD_WIDTH[0] <= max(w, h) / page_w <= CARD_WIDTH[1]
                and CARD_ASPECT[0] <= aspect <= CARD_ASPECT[1]
                and area >= CARD_FILL * w * h):
            boxes.append((int(x) * factor, int(y) * factor, int(w) * factor, int(h) * factor))
    return sorted(boxes, key=lambda b: (b[1], b[0]))


def fade_pattern(card: np.ndarray) -> np.ndarray:
    """The card's ink on white: the background tone and its light pattern become paper."""
    bg = float(np.median(card))
    scaled = card.astype(np.float32) * (255.0 / max(1.0, bg * INK_SHARE))
    return np.clip(scaled, 0, 255).astype(np.uint8)
