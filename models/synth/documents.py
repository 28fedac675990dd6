"""PIL layouts of documents: pages, receipts, invoices with tables, ID cards, screenshots,
packaging and labels. Boxes are text lines (a wide gap starts a new box, as in key/value
columns), which is what the seed's line-level model and the receipt benchmark expect."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .canvas import Canvas, ink_color, line_runs, page_size, paper_color, size_for, texture
from .fonts import FontBank
from .text_sources import GOODS_EN, GOODS_ZH, UI_EN, UI_ZH, UNITS_ZH, TextSource
from .types import SynthConfig


def layout_document(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(0.68, 0.8)))
    c = Canvas(w, h, paper_color(rng), fonts, rng, cfg)
    margin = int(w * rng.uniform(0.05, 0.12))
    ink = ink_color(rng)
    body = size_for(rng, 9, 26)
    font = fonts.pick(rng, "中")
    y = margin
    title = src.zh_sentence(16) if rng.random() < 0.6 else src.en.catch_phrase().title()
    tb = c.text(margin + rng.uniform(0, w * 0.2), y, title, int(body * rng.uniform(1.4, 2.4)), ink)
    y = (tb[3] if tb else y) + body * rng.uniform(0.8, 2.0)
    columns = 2 if rng.random() < 0.2 and w > 500 else 1
    col_w = (w - 2 * margin) / columns
    col_y = [y] * columns
    for col in range(columns):
        yy = col_y[col]
        x0 = margin + col * col_w
        while yy < h - margin - body * 2:
            if rng.random() < 0.12:
                yy += body * rng.uniform(0.8, 1.6)   # paragraph break
                continue
            text = src.any_line() if rng.random() < 0.35 else (src.zh_sentence(40) if rng.random() < 0.6 else src.en_sentence(14))
            maxw = col_w * rng.uniform(0.55, 0.98)
            while text and c.text_width(text, body, font)[0] > maxw:
                text = text[: int(len(text) * 0.85)]
            box = c.text(x0 + (rng.uniform(0, body) if rng.random() < 0.2 else 0), yy, text, body, ink, font)
            yy += (box[3] - box[1] if box else body) * rng.uniform(1.3, 2.0)
    return c


def layout_receipt(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(0.3, 0.6)))
    c = Canvas(w, h, paper_color(rng), fonts, rng, cfg)
    ink = ink_color(rng)
    size = size_for(rng, 9, 22)
    font = fonts.pick(rng, "中")
    margin = int(w * rng.uniform(0.04, 0.1))
    y = margin
    shop = src.zh.company() if rng.random() < 0.6 else src.en.company().upper()
    tw = c.text_width(shop, int(size * 1.4), font)[0]
    box = c.text(max(margin, (w - tw) / 2), y, shop, int(size * 1.4), ink, font)
    y = (box[3] if box else y) + size
    for _ in range(int(rng.integers(2, 5))):
        line = src.rng.choice([src.date(), "单号:" + src.code(), "电话:" + src.zh.phone_number(), src.zh.address(),
                               "收银员:" + src.zh.name(), "TEL " + src.en.phone_number()])
        box = c.text(margin, y, line, size, ink, font)
        y = (box[3] if box else y + size) + size * 0.7
    while y < h - margin - size * 6:
        if rng.random() < 0.15:
            sep = rng.choice(["-", "=", "*", "."]) * int((w - 2 * margin) / max(4, size * 0.55))
            c.text(margin, y, sep, size, ink, font, record=False)   # separators are not text
            y += size * 1.4
            continue
        name = src.pick(GOODS_ZH) if rng.random() < 0.6 else src.pick(GOODS_EN)
        qty = f"{int(rng.integers(1, 10))}{src.pick(UNITS_ZH) if rng.random() < 0.4 else ''}"
        price = f"{rng.uniform(1, 200):.2f}"
        total = f"{rng.uniform(1, 999):.2f}"
        if rng.random() < 0.5:  # name / qty / price in columns -> separate boxes
            lh, right = 0.0, float(margin)
            tw = c.text_width(total, size, font)[0]
            limit = w - margin - tw - size   # columns must end before the right-aligned total
            for text, frac in ((name, 0.0), (qty, 0.45), (price, 0.6)):
                x = max(margin + frac * (w - 2 * margin), right + size)
                if x + c.text_width(text, size, font)[0] > limit:
                    break
                box = c.text(x, y, text, size, ink, font)
                if box:
                    lh, right = max(lh, box[3] - box[1]), box[2]
            c.text(w - margin - tw, y, total, size, ink, font)
        else:
            tw = c.text_width(total, size, font)[0]
            item = f"{name} x{qty}"
            if margin + c.text_width(item, size, font)[0] + size < w - margin - tw:
                lh = line_runs(c, margin, y, [item], size, ink, font, 0)
            else:
                lh = 0.0
            c.text(w - margin - tw, y, total, size, ink, font)
        y += (lh or size) + size * rng.uniform(0.5, 1.0)
    for label in ("合计", "实收", "找零", "TOTAL"):
        if y > h - margin - size * 2:
            break
        c.text(margin, y, label + (":" if rng.random() < 0.5 else ""), size, ink, font)
        amt = src.amount()
        tw = c.text_width(amt, size, font)[0]
        c.text(w - margin - tw, y, amt, size, ink, font)
        y += size * 1.8
    return c


def layout_invoice(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(1.2, 1.6)))
    c = Canvas(w, h, paper_color(rng), fonts, rng, cfg)
    ink = ink_color(rng)
    line_color = tuple(int(v) for v in rng.integers(60, 180, 3)) if rng.random() < 0.6 else ink
    size = size_for(rng, 9, 20)
    font = fonts.pick(rng, "中")
    margin = int(w * rng.uniform(0.03, 0.07))
    title = src.pick(["增值税普通发票", "增值税专用发票", "INVOICE", "销售清单", "报价单", "送货单"])
    tw = c.text_width(title, int(size * 1.8), font)[0]
    box = c.text((w - tw) / 2, margin, title, int(size * 1.8), ink if rng.random() < 0.5 else (160, 40, 30), font)
    y = (box[3] if box else margin) + size
    for _ in range(int(rng.integers(1, 4))):
        line_runs(c, margin, y, [src.field(), src.field()], size, ink, font, gap=w * 0.15)
        y += size * 1.7
    rows, cols = int(rng.integers(3, 9)), int(rng.integers(3, 7))
    table_h = min(h - y - margin - size * 3, rows * size * rng.uniform(1.8, 2.6))
    if table_h > size * 3:
        row_h = table_h / rows
        widths = rng.dirichlet(np.ones(cols) * 3) * (w - 2 * margin)
        xs = margin + np.concatenate([[0], np.cumsum(widths)])
        lw = int(rng.integers(1, 3))
        for r in range(rows + 1):
            c.draw.line([(margin, y + r * row_h), (w - margin, y + r * row_h)], fill=line_color, width=lw)
        for x in xs:
            c.draw.line([(x, y), (x, y + rows * row_h)], fill=line_color, width=lw)
        headers = ["货物名称", "规格", "单位", "数量", "单价", "金额", "税率", "税额"]
        for r in range(rows):
            for k in range(cols):
                if r > 0 and rng.random() < 0.15:
                    continue
                if r == 0:
                    text = headers[k % len(headers)]
                else:
                    text = src.rng.choice([src.pick(GOODS_ZH), src.amount(), str(int(rng.integers(1, 500))),
                                           src.pick(UNITS_ZH), f"{int(rng.integers(1, 17))}%", src.code()[:8]])
                cell_w = widths[k] - size * 0.6
                while text and c.text_width(text, size, font)[0] > cell_w:
                    text = text[:-1]
                c.text(xs[k] + size * 0.3, y + r * row_h + (row_h - size) / 2, text, size, ink, font)
        y += rows * row_h + size
    while y < h - margin - size * 1.5:
        line_runs(c, margin, y, [src.field()] + ([src.field()] if rng.random() < 0.5 else []), size, ink, font, w * 0.2)
        y += size * 1.8
    if rng.random() < 0.5:  # a red seal over text (distractor, not text)
        cx, cy, r = int(rng.uniform(0.6, 0.9) * w), int(rng.uniform(0.6, 0.9) * h), int(min(w, h) * 0.09)
        c.draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=(200, 30, 30), width=max(2, r // 12))
    return c


def layout_id_card(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = page_size(rng, cfg, aspect=1.58)
    bg = tuple(int(v) for v in rng.integers(170, 250, 3))
    c = Canvas(w, h, bg, fonts, rng, cfg)
    arr = np.asarray(c.img, np.float32)
    grad = np.linspace(0, 1, w)[None, :, None] * rng.uniform(-40, 40, 3)[None, None, :]
    waves = 10 * np.sin(np.arange(h)[:, None, None] / rng.uniform(6, 20) + np.arange(w)[None, :, None] / rng.uniform(20, 60))
    c.img = Image.fromarray(np.clip(arr + grad + waves * (rng.random() < 0.6), 0, 255).astype(np.uint8))
    c.draw = ImageDraw.Draw(c.img)
    ink = ink_color(rng)
    size = size_for(rng, 10, 26)
    font = fonts.pick(rng, "中")
    px0 = int(w * 0.66)
    c.draw.rectangle([px0, int(h * 0.15), int(w * 0.94), int(h * 0.75)],
                     fill=tuple(int(v) for v in rng.integers(120, 230, 3)))
    y = h * 0.1
    for label, value in (("姓名", src.zh.name()), ("性别", src.rng.choice(["男", "女"])),
                         ("出生", src.date()), ("住址", src.zh.address()[:14]),
                         ("公民身份号码", src.zh.ssn()), ("有效期限", src.date())):
        if y > h - size * 2:
            break
        lb = c.text(w * 0.06, y, label, size, (80, 110, 160) if rng.random() < 0.5 else ink, font)
        if lb is not None:
            c.text(lb[2] + size, y, value, size, ink, font)
        y += size * rng.uniform(1.6, 2.4)
    return c


def layout_screenshot(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    phone = rng.random() < 0.5
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(0.45, 0.56)) if phone else float(rng.uniform(1.3, 1.8)))
    dark = rng.random() < 0.25
    c = Canvas(w, h, (28, 28, 32) if dark else (250, 250, 250), fonts, rng, cfg)
    ink = (230, 230, 230) if dark else (30, 30, 30)
    accent = tuple(int(v) for v in rng.integers(0, 220, 3))
    size = size_for(rng, 10, 24)
    bar_h = int(size * 2.6)
    c.draw.rectangle([0, 0, w, bar_h], fill=accent)
    head_ink = (255, 255, 255) if sum(accent) < 400 else (20, 20, 20)
    c.text(size, (bar_h - size) / 2, src.rng.choice(UI_ZH + UI_EN), int(size * 1.1), head_ink)
    y = bar_h + size
    while y < h - bar_h:
        kind = rng.random()
        if kind < 0.2:   # button
            label = src.rng.choice(UI_ZH + UI_EN)
            f = fonts.pick(rng, label)
            tw, th = c.text_width(label, size, f)
            bx = rng.uniform(size, max(size + 1, w - tw - 3 * size))
            c.draw.rounded_rectangle([bx, y, bx + tw + 2 * size, y + th + size], radius=size // 2, fill=accent)
            c.text(bx + size, y + size / 2, label, size, head_ink, f)
            y += th + size * 2
        else:            # list item with avatar and two lines
            r = size
            c.draw.ellipse([size, y, size + 2 * r, y + 2 * r], fill=tuple(int(v) for v in rng.integers(80, 230, 3)))
            x = size * 2 + 2 * r
            b1 = c.text(x, y, src.rng.choice([src.zh.name(), src.en.name(), src.zh.company()]), size, ink)
            yy = (b1[3] if b1 else y + size) + size * 0.4
            second = src.zh_sentence(int((w - x) / size) - 1) if rng.random() < 0.6 else src.en_sentence(6)
            while second and c.text_width(second, int(size * 0.85), fonts.cjk[0])[0] > w - x - size:
                second = second[:-1]
            b2 = c.text(x, yy, second, int(size * 0.85), (140, 140, 140))
            y = (b2[3] if b2 else yy + size) + size * 1.2
            c.draw.line([(x, y - size * 0.6), (w, y - size * 0.6)], fill=(90, 90, 90) if dark else (225, 225, 225))
    return c


def layout_packaging(rng, src: TextSource, fonts: FontBank, cfg: SynthConfig) -> Canvas:
    w, h = page_size(rng, cfg, aspect=float(rng.uniform(0.7, 1.5)))
    c = Canvas(w, h, (0, 0, 0), fonts, rng, cfg)
    c.img = Image.fromarray(texture(rng, w, h))
    c.draw = ImageDraw.Draw(c.img)
    mean = np.asarray(c.img).mean()
    for _ in range(int(rng.integers(3, 9))):
        big = rng.random() < 0.4
        size = size_for(rng, 24, 110) if big else size_for(rng, 10, 30)
        text = (src.pick(GOODS_ZH) + src.rng.choice(["", "味", "装", "500ml", "净含量 250g"]) if big
                else src.rng.choice([src.field(), "生产日期 " + src.date(), "配料: " + "、".join(src.zh.words(3)),
                                     src.en.catch_phrase(), "保质期 12个月", src.code()]))
        if rng.random() < 0.3:   # a label panel under the text
            f = fonts.pick(rng, text)
            tw, th = c.text_width(text, size, f)
            x, y = rng.uniform(0, max(1, w - tw)), rng.uniform(0, max(1, h - th))
            panel = tuple(int(v) for v in rng.integers(0, 256, 3))
            c.draw.rectangle([x - size * 0.3, y - size * 0.3, x + tw + size * 0.3, y + th + size * 0.3], fill=panel)
            fill = ink_color(rng, dark=sum(panel) > 380)
            c.text(x, y, text, size, fill, f)
        else:
            fill = ink_color(rng, dark=mean > 128) if rng.random() < 0.8 else tuple(int(v) for v in rng.integers(0, 256, 3))
            c.text(rng.uniform(0, w * 0.6), rng.uniform(0, h * 0.9), text, size, fill)
    return c
