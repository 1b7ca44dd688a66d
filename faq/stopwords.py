"""Stop words of the FAQ matcher, per language (the BCP 47 primary language subtag).

These are short lists written for this matcher, not a general-purpose collection: the
general lists on PyPI (``stop-words``, ``stopwords-iso``) hold over a thousand English
words, ``order`` and ``get`` among them, which are exactly the words that tell FAQ
questions apart. The rule we followed, in the spirit of the Snowball project's stop lists
(snowballstem.org): articles, pronouns, auxiliary and modal verbs, prepositions,
conjunctions and courtesy words go; **question words and negations stay** ("where",
"why", "not", "¿dónde?", "أين", "कहाँ"), because "where is my refund" and "why no refund"
ask different things.

Words are written as the matcher compares them: case-folded, and without accents in the
languages whose accents it folds (see :func:`faq.matcher.folds_accents`). Stop words are
dropped only from the *content* view of a text (token-based scorers and keywords); the
full text, question words included, still feeds the character-level scorers.

:data:`SPACELESS_STOP_PHRASES` serve scripts written without spaces (Chinese, Japanese,
Thai): each phrase found there is treated as a word boundary before character n-grams
are taken. Japanese particles (は, を, の ...) are deliberately *not* listed: without a
morphological analyser, removing a single kana would also cut it out of words (はい,
はがき); only polite endings that never begin a content word are listed.
"""
from __future__ import annotations

STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""
        a an the i me my mine myself you your yours we our ours us it its is am are was were be been
        being do does did doing have has had having to of in on at for with by from about into as and or
        but if so than then this that these those there here please hi hello hey thanks thank just can
        could would will shall should may might must im ive id s m ll d ve re
        help need want wanna know assistance tell some ur u ya got gotta try trying""".split()),
    "es": frozenset("""
        el la los las un una unos unas lo de del al a en y o u e que por para con mi mis me yo tu tus su
        sus nos nuestro nuestra es son esta estan estoy fue ser estar he ha han hay se le les favor hola
        gracias muy ya puedo puede quiero quisiera""".split()),
    "pt": frozenset("""
        o a os as um uma uns umas de do da dos das em no na nos nas ao aos e ou que por para com meu minha
        meus minhas me eu seu sua seus suas e sao esta estou foi ser estar tem tenho ha se favor ola
        obrigado obrigada posso pode quero gostaria""".split()),
    "fr": frozenset("""
        le la les l un une des du de d au aux a et ou que qu en dans sur pour par avec mon ma mes je j me m
        moi tu te t ton ta tes son sa ses nous vous votre vos est sont suis ai as ete etre avoir ce c cet
        cette ces il elle on y s plait bonjour merci puis peux peut voudrais""".split()),
    "de": frozenset("""
        der die das den dem des ein eine einen einem einer eines und oder aber ich mich mir mein meine
        meinen meinem meiner du dich dir dein deine sie ihr ihre er es wir uns unser unsere ist sind bin
        war habe hat haben wird werden zu zum zur im in am an auf aus bei mit von vom fur bitte hallo
        danke kann konnen mochte""".split()),
    "it": frozenset("""
        il lo la i gli le un uno una di del della dei delle a al alla in nel nella e o che per con mio mia
        miei mie io me mi tu ti suo sua e sono ho ha hanno si ciao grazie favore posso""".split()),
    "ar": frozenset("""
        في من على إلى الى عن مع هذا هذه ذلك تلك أنا انا لي هو هي نحن أن ان إن قد كان كانت يا هل
        فضلك لو سمحت مرحبا شكرا أريد اريد""".split()),
    "hi": frozenset("""
        है हैं था थी का की के को में से पर और या मेरा मेरी मेरे मैं मुझे यह वह कृपया हूँ हूं भी तो""".split()),
}

SPACELESS_STOP_PHRASES: dict[str, tuple[str, ...]] = {
    # Longest first: a phrase that contains a shorter one must be cut out before it.
    "zh": ("请问", "請問", "一下", "的", "了", "吗", "嗎", "呢", "吧", "啊", "呀", "我", "你", "请", "請"),
    "ja": ("でしょうか", "お願いします", "おねがいします", "ください", "下さい", "ですか", "ますか", "です", "ます"),
    "th": ("ขอบคุณ", "ดิฉัน", "ครับ", "ค่ะ", "คะ", "นะ", "จ้า", "ผม", "ฉัน", "หน่อย"),
}
