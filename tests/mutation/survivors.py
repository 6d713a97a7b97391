"""Surviving mutants judged harmless, each with the reason (docs/mutation.md lists them)."""

from __future__ import annotations

_IMPORT_TIME = (
    "`_rule` runs only while the module is imported, before mutmut switches a mutant on, so "
    "no test can select this mutant; it would break every naming rule at once, which "
    "tests/test_bigquery_facts.py checks"
)

_LAST_PART = (
    "the card's name is the URI's last `/` part; every rsplit variant mutmut makes returns "
    "that same last part: an equivalent mutant"
)

_LOCATION_TWICE = (
    "the location is given both to the client and to each job (query and get_job fall back "
    "to the client's when a job has none); dropping one of the two leaves every job in "
    "the stack's location, which the executor's test checks"
)

_UNKNOWN_KEY_VALUE = (
    "an unknown key is refused by its name before any value is read, so the value it is "
    "given (Pulumi's value, None, or Pulumi's answer for a key named None) never shows: "
    "an equivalent mutant"
)
_SQL_KEYWORD_CASE = (
    "a DuckDB keyword in lower case (`cascade`, `DROP table`) means the same: an equivalent mutant"
)
_SIMPLEJPEG_DEFAULT = (
    "simplejpeg.decode_jpeg's own default (strict=True, colorspace 'rgb') or a spelling it "
    "reads the same way (it takes the colorspace in any case): an equivalent mutant"
)
_UINT8_ALREADY = (
    "the array is uint8 already (simplejpeg's output, an RGB Pillow image), so asking "
    "numpy for uint8 or for nothing gives the same array: an equivalent mutant"
)
_BIG_ENDIAN_DEFAULT = (
    "`big` is int.from_bytes' default byte order since Python 3.11, the oldest this "
    "project runs on: an equivalent mutant"
)
_BMP_BITS_ONLY = (
    "the bit count is read and used only for a BMP, and a BMP shorter than 31 bytes "
    "(its headers alone take 54) never opens in Pillow: what is read for a PNG, or for "
    "such a stub, is never used, an equivalent mutant"
)
_RGB_FAST_PATH = (
    "the RGB branch only skips a copy: convert('RGB') of an RGB image gives the same "
    "pixels, which test_decode_pinned.py pins: an equivalent mutant"
)
_NO_MODE_I = (
    "Pillow 13 (pinned) opens no PNG or BMP in mode `I` (16-bit gray PNG is `I;16`, "
    "with or without tRNS), so the `I` test is never the one that matches"
)
_PALETTE_TRANSPARENCY = (
    "with Pillow 13 (pinned) a palette PNG converts to its palette colours whether it goes "
    "through RGBA or straight to RGB (and an unknown mode name for a P image also ends "
    "in RGB); test_decode_pinned.py pins the pixels of png_palette_transparent.png to "
    "TensorFlow's: an equivalent mutant under this Pillow"
)
_CLOSE_MATCH = (
    "difflib returns its matches best first and only the first is shown, so asking it for "
    "1, 2 or 3 shows the same one: an equivalent mutant"
)
_UTF8_SPELLING = "`UTF-8` and `utf-8` name the same codec: an equivalent mutant"

SURVIVORS: dict[str, str] = {
    "infra.config.x_load_config__mutmut_20": _UNKNOWN_KEY_VALUE,
    "infra.config.x_load_config__mutmut_21": _UNKNOWN_KEY_VALUE,
    "infra.config.x_stack_settings_keys__mutmut_5": _UTF8_SPELLING,
    "infra.config.x_parse_config__mutmut_12": _CLOSE_MATCH,
    "infra.config.x_parse_config__mutmut_14": _CLOSE_MATCH,
    "infra.config.x__model_files__mutmut_40": (
        "450,000,000 / 1,000,001 is 449.99955, which `:.0f` still prints as 450: an "
        "equivalent mutant while the limit is 450 MB (the whole refusal is matched)"
    ),
    "pipeline.post_deploy.xǁStepInputsǁfingerprint__mutmut_19": _UTF8_SPELLING,
    "pipeline.post_deploy.xǁStepInputsǁrender__mutmut_1": (
        "every caller that runs the step passes an epoch (`hook` its run key, the provider "
        "the dataset's creation time); the preview's SQL check passes none but reads only "
        "the rendered templates, never the epoch or the fingerprint: an equivalent mutant"
    ),
    "pipeline.post_deploy.x_bigquery_executor__mutmut_2": (
        "the step's job timeout moves from 3600 s to 3601 s: no document states it, and a "
        "job that runs that long is still cancelled, one second later"
    ),
    "pipeline.post_deploy.x_bigquery_executor__mutmut_5": _LOCATION_TWICE,
    "pipeline.post_deploy.x_bigquery_executor__mutmut_12": _LOCATION_TWICE,
    "sqlrunner.report_html.x__e__mutmut_4": (
        "`quote=True` is `html.escape`'s default: an equivalent mutant"
    ),
    "sqlrunner.report_html.x__card__mutmut_5": _LAST_PART,
    "sqlrunner.report_html.x__card__mutmut_8": _LAST_PART,
    "sqlrunner.report_html.x__card__mutmut_9": _LAST_PART,
    "sqlrunner.report_html.x__card__mutmut_57": (
        "`_thumbnail` does not use its card argument (the name is passed apart): equivalent"
    ),
    "bigquery_facts.x__rule__mutmut_1": _IMPORT_TIME,
    "bigquery_facts.x__rule__mutmut_2": _IMPORT_TIME,
    "bigquery_facts.x__rule__mutmut_3": _IMPORT_TIME,
    "bigquery_facts.x__rule__mutmut_4": _IMPORT_TIME,
    "bigquery_facts.x__rule__mutmut_5": _IMPORT_TIME,
    "pipeline.templates.x_render_file__mutmut_6": _UTF8_SPELLING,
    "pipeline.retry.xǁRetryPolicyǁ__post_init____mutmut_2": (
        "a start time in (0, 1) given by a caller is a clock reading of under a second: "
        "taking the clock instead shifts the permission grace by less than a second"
    ),
    # local_engine/ddl.py
    "local_engine.ddl.x__value__mutmut_5": (
        "a number literal holds no `X`, so also looking for one in it finds nothing more: "
        "an equivalent mutant"
    ),
    "local_engine.ddl.x__connection__mutmut_6": (
        "the WITH CONNECTION clause is looked for only after OPTIONS(object_metadata = "
        "'SIMPLE') was found, so the properties it walks are never missing: an equivalent mutant"
    ),
    "local_engine.ddl.x_drop_schema__mutmut_26": _SQL_KEYWORD_CASE,
    "local_engine.ddl.x__make_room__mutmut_27": _SQL_KEYWORD_CASE,
    "local_engine.ddl.x_create_external_table__mutmut_16": (
        "a missing object_metadata read as `XXXX` instead of an empty string is refused by "
        "the same test against 'SIMPLE': an equivalent mutant"
    ),
    "local_engine.ddl.x_create_external_table__mutmut_69": (
        "`SIMPLE` is ObjectTableDef's default object_metadata: leaving it out is equivalent"
    ),
    "local_engine.ddl.x_create_model__mutmut_62": (
        "local_engine.models.create_model upper-cases the model type itself, so the case "
        "ddl.py hands it does not matter: an equivalent mutant"
    ),
    # local_engine/decode.py
    **{
        f"local_engine.decode.x__decode_jpeg__mutmut_{n}": _SIMPLEJPEG_DEFAULT
        for n in (22, 24, 56, 58, 61)
    },
    **{f"local_engine.decode.x__decode_jpeg__mutmut_{n}": _UINT8_ALREADY for n in (65, 67)},
    "local_engine.decode.x__decode_jpeg__mutmut_33": (
        "channel * K is at most 65,025, so true division then truncation to uint8 gives "
        "the floor that `//` gives (a multiple of 255 divides exactly): an equivalent mutant"
    ),
    "local_engine.decode.x__decode_jpeg__mutmut_37": (
        "a CMYK JPEG decodes to 4 channels, so `3:5` selects the same K channel as `3:4`"
    ),
    "local_engine.decode.x__header_size__mutmut_16": _BIG_ENDIAN_DEFAULT,
    "local_engine.decode.x__header_size__mutmut_24": _BIG_ENDIAN_DEFAULT,
    "local_engine.decode.x__decode_with_pillow__mutmut_11": (
        "at exactly 50,000,000 pixels the early check calls _check_pixels, which applies the "
        "limit itself (`>`) and lets it through: an equivalent mutant"
    ),
    **{
        f"local_engine.decode.x__decode_with_pillow__mutmut_{n}": (
            "Pillow is told the format already sniffed from the signature only to skip its "
            "other plugins; none of them takes data beginning with a PNG or BMP signature "
            "(corrupt ones tried give the same refusal either way)"
        )
        for n in (16, 18)
    },
    "local_engine.decode.x__decode_with_pillow__mutmut_23": (
        "Pillow reports the size the header check before it already read (PNG IHDR, BMP "
        "info header) and opens no zero-sized image, so this second check never refuses "
        "anything the first let through; the URI in both refusals is tested"
    ),
    **{
        f"local_engine.decode.x__decode_with_pillow__mutmut_{n}": _BMP_BITS_ONLY
        for n in (29, 38, 42, 43, 44)
    },
    **{f"local_engine.decode.x__to_rgb__mutmut_{n}": _RGB_FAST_PATH for n in (3, 4)},
    **{f"local_engine.decode.x__to_rgb__mutmut_{n}": _UINT8_ALREADY for n in (6, 8, 42, 44)},
    "local_engine.decode.x__to_rgb__mutmut_14": _NO_MODE_I,
    "local_engine.decode.x__to_rgb__mutmut_15": _NO_MODE_I,
    **{
        f"local_engine.decode.x__to_rgb__mutmut_{n}": _PALETTE_TRANSPARENCY
        for n in (30, 31, 32, 33, 34, 35, 36, 38, 39, 40)
    },
}
