"""Japan's 47 prefectures (都道府県) in the usual eight regions (地方区分), and the ways people write them."""

from __future__ import annotations

import unicodedata

# Region -> its prefectures, in the order of the prefecture codes (JIS X 0401).
REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("北海道",),
    "東北": ("青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"),
    "関東": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県"),
    "中部": ("新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県"),
    "近畿": ("三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県"),
    "中国": ("鳥取県", "島根県", "岡山県", "広島県", "山口県"),
    "四国": ("徳島県", "香川県", "愛媛県", "高知県"),
    "九州・沖縄": ("福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"),
}
PREFECTURES: tuple[str, ...] = tuple(name for names in REGIONS.values() for name in names)
REGION_OF: dict[str, str] = {name: region for region, names in REGIONS.items() for name in names}
_ROMAJI = (
    "hokkaido", "aomori", "iwate", "miyagi", "akita", "yamagata", "fukushima", "ibaraki", "tochigi", "gunma",
    "saitama", "chiba", "tokyo", "kanagawa", "niigata", "toyama", "ishikawa", "fukui", "yamanashi", "nagano",
    "gifu", "shizuoka", "aichi", "mie", "shiga", "kyoto", "osaka", "hyogo", "nara", "wakayama", "tottori",
    "shimane", "okayama", "hiroshima", "yamaguchi", "tokushima", "kagawa", "ehime", "kochi", "fukuoka",
    "saga", "nagasaki", "kumamoto", "oita", "miyazaki", "kagoshima", "okinawa",
)
_SPELLINGS: dict[str, str] = {
    **{name: name for name in PREFECTURES},
    **{name[:-1]: name for name in PREFECTURES if name != "北海道"},  # 東京, 大阪, 神奈川 ...
    **dict(zip(_ROMAJI, PREFECTURES, strict=True)),
}
_ROMAJI_SUFFIXES = ("-to", "-fu", "-ken", " prefecture", " pref.", " pref")
_MACRONS = str.maketrans("āīūēō", "aiueo")  # Tōkyō, Ōsaka


def prefecture_name(written: object) -> str | None:
    """The prefecture as 都道府県 names it ("東京都") from how a form or a card list may have it ("東京",
    "Tokyo", "ＴＯＫＹＯ", "Osaka-fu", "Kyoto Prefecture"); None when it is not one."""
    text = unicodedata.normalize("NFKC", str(written or "")).strip().casefold().translate(_MACRONS)
    for suffix in _ROMAJI_SUFFIXES:
        if text.endswith(suffix) and text[: -len(suffix)] in _ROMAJI:
            text = text[: -len(suffix)]
            break
    return _SPELLINGS.get(text)
