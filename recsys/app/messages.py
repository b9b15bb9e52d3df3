"""Every label and message of the app in English and Spanish: one catalog, keyed by the English text.

``t("Search")`` is the text in the language the user chose in the sidebar (English by default); templates
take their values by name (``t("{count} results in {ms} ms", count=10, ms=42)``). An English text with no
Spanish entry shows in English (a test checks that every ``t(...)`` of the app has one). What a query was
understood as is written by the engine in English and put in Spanish by :func:`reading_line`.
"""

from __future__ import annotations

import re

import streamlit as st

UI_LANGUAGES = {"English": "en", "Español": "es"}

SPANISH = {
    # frame and pages
    "Search": "Buscar",
    "Recommendations": "Recomendaciones",
    "Catalog": "Catálogo",
    "Retrain": "Reentrenar",
    "Evaluate": "Evaluar",
    "Page": "Página",
    "Catalog: {source} · {count:,} titles": "Catálogo: {source} · {count:,} títulos",
    "Head: {head} · liked: {liked}": "Cabezal: {head} · me gusta: {liked}",
    "trained": "entrenado",
    "untrained": "sin entrenar",
    "Back to the default catalog": "Volver al catálogo por defecto",
    # search
    "What would you like to watch?": "¿Qué te apetece ver?",
    "sci-fi about first contact with aliens": "ciencia ficción sobre el primer contacto con extraterrestres",
    "Type what you are in the mood for, or pick an example above.": (
        "Escribe lo que te apetece ver o elige un ejemplo de arriba."
    ),
    "Note: {note}": "Nota: {note}",
    "{count} results in {ms} ms": "{count} resultados en {ms} ms",
    "No title matches these filters.": "Ningún título cumple estos filtros.",
    "Your query, its words marked by their mean share over these results: ": (
        "Tu búsqueda, con sus palabras marcadas según su peso medio en estos resultados: "
    ),
    "(from the translation: {words})": "(de la traducción: {words})",
    "Understood as:": "Entendido como:",
    "Drop this reading: its words are searched as plain words": (
        "Quitar esta lectura: sus palabras se buscan como palabras sin más"
    ),
    "Filters": "Filtros",
    "Genres (any of them)": "Géneros (cualquiera de ellos)",
    "Years": "Años",
    "Kind": "Tipo",
    "any": "cualquiera",
    "movie": "película",
    "series": "serie",
    "Query language": "Idioma de la búsqueda",
    "Auto": "Automático",
    "Leave out genres": "Excluir géneros",
    "Countries": "Países",
    "Ratings": "Clasificación por edades",
    "At most (minutes)": "Como mucho (minutos)",
    "More like {title}": "Más como {title}",
    "← Back to the search": "← Volver a la búsqueda",
    # result cards
    "Directed by ": "Dirigida por ",
    "Starring ": "Con ",
    "{minutes} min": "{minutes} min",
    "{count} season": "{count} temporada",
    "{count} seasons": "{count} temporadas",
    "score {score:.3f} · attention weight {weight:.1%}": "puntuación {score:.3f} · peso de atención {weight:.1%}",
    "♥ Liked": "♥ Me gusta",
    "♡ Like": "♡ Me gusta",
    "More like this": "Más como este",
    "Why this match": "Por qué este resultado",
    "Query, for this title: ": "Búsqueda, para este título: ",
    "{carried:+.4f} of the description's shares came through punctuation, stop words and [CLS]/[SEP] and is "
    "credited to the words they gathered from.": (
        "{carried:+.4f} del peso de la descripción llegó por la puntuación, las palabras vacías y [CLS]/[SEP] "
        "y se atribuye a las palabras de las que lo recogieron."
    ),
    "Show the encoder's own self-attention": "Mostrar la autoatención del propio codificador",
    "Which word pairs drove the score": "Qué pares de palabras dieron la puntuación",
    "Encoder self-attention, layer {layer}, head {head}": "Autoatención del codificador, capa {layer}, cabezal {head}",
    "layer": "capa",
    "head": "cabezal",
    # recommendations
    "Recommendations from your likes": "Recomendaciones a partir de lo que te gusta",
    "Mark titles with ♡ Like on the Search page, then come back here.": (
        "Marca títulos con ♡ Me gusta en la página Buscar y vuelve aquí."
    ),
    "You liked:": "Te gustó:",
    "Remove": "Quitar",
    "Recommend from my likes": "Recomendar a partir de lo que me gusta",
    "Because you liked {title}": "Porque te gustó {title}",
    "Less like this": "Menos como esto",
    "Optional: ratings, watches or likes to learn recommendations from (user, item, rating, timestamp "
    "columns; {suffixes})": (
        "Opcional: valoraciones, visionados o «me gusta» de los que aprender recomendaciones (columnas de "
        "usuario, título, valoración y fecha; {suffixes})"
    ),
    "{likes:,} likes from {users:,} people on {titles:,} titles; {unknown:,} rows name titles that are "
    "not in the catalog.": (
        "{likes:,} «me gusta» de {users:,} personas sobre {titles:,} títulos; {unknown:,} filas nombran títulos "
        "que no están en el catálogo."
    ),
    "Done in {seconds:.0f} s: recommendations now learn from the likes (head validation nDCG@10 "
    "{served:.4f} → {new:.4f}; the better head is kept). The new model is serving now.": (
        "Hecho en {seconds:.0f} s: las recomendaciones aprenden ahora de los «me gusta» (nDCG@10 de validación "
        "del cabezal {served:.4f} → {new:.4f}; se queda el mejor). El nuevo modelo ya está sirviendo."
    ),
    "history": "historial",
    "item-to-item": "título a título",
    "popularity": "popularidad",
    "description": "descripción",
    "Less like:": "Menos como:",
    "Learned from {likes:,} likes of {users:,} people: {parts}": (
        "Aprendido de {likes:,} «me gusta» de {users:,} personas: {parts}"
    ),
    # catalog
    "Serving **{source}**: {count:,} titles.": "Sirviendo **{source}**: {count:,} títulos.",
    "Upload a catalog: CSV, TSV, JSON Lines or Parquet ({suffixes}), up to {limit} MB": (
        "Sube un catálogo: CSV, TSV, JSON Lines o Parquet ({suffixes}), hasta {limit} MB"
    ),
    "Columns are recognised by name: id, title, description/overview/plot, genres/listed_in, year/release_year, "
    "type/kind, keywords/tags, director, cast, country, rating, duration.": (
        "Las columnas se reconocen por su nombre: id, title, description/overview/plot, genres/listed_in, "
        "year/release_year, type/kind, keywords/tags, director, cast, country, rating, duration."
    ),
    "This file cannot be used: {error}": "Este archivo no se puede usar: {error}",
    "{name}: {count:,} titles read, {skipped} rows skipped.": (
        "{name}: {count:,} títulos leídos, {skipped} filas omitidas."
    ),
    "Recognised columns: ": "Columnas reconocidas: ",
    "Row {row} skipped: {reason}": "Fila {row} omitida: {reason}",
    "Index this catalog": "Indexar este catálogo",
    "Indexing": "Indexando",
    "Indexed {count:,} titles. The Search page now searches {name}.": (
        "Indexados {count:,} títulos. La página Buscar busca ahora en {name}."
    ),
    # retrain
    "Train the attention head on **{source}** ({count:,} titles) from pseudo-queries made from the catalog "
    "itself. The current model keeps answering meanwhile; the new one replaces it only if it finished and is "
    "better on the held-out titles.": (
        "Entrena el cabezal de atención con **{source}** ({count:,} títulos) a partir de pseudobúsquedas hechas "
        "con el propio catálogo. El modelo actual sigue respondiendo mientras tanto; el nuevo solo lo sustituye "
        "si termina y es mejor con los títulos reservados."
    ),
    "Epochs (at most; training stops early when validation stops improving)": (
        "Épocas (como mucho; el entrenamiento para antes si la validación deja de mejorar)"
    ),
    "Start retraining": "Empezar a reentrenar",
    "Training": "Entrenando",
    "Done in {seconds:.0f} s: validation nDCG@10 {served:.4f} → {new:.4f}. The new model is serving now.": (
        "Hecho en {seconds:.0f} s: nDCG@10 de validación {served:.4f} → {new:.4f}. Ahora sirve el modelo nuevo."
    ),
    "Done in {seconds:.0f} s: the new head was not better on the held-out titles ({new:.4f} against "
    "{served:.4f}); the current model keeps serving.": (
        "Hecho en {seconds:.0f} s: el cabezal nuevo no fue mejor con los títulos reservados ({new:.4f} frente a "
        "{served:.4f}); sigue sirviendo el modelo actual."
    ),
    "{stage}: {done:,} of {total:,}": "{stage}: {done:,} de {total:,}",
    "{stage}: stopped after {done:,} of {total:,}": "{stage}: detenido tras {done:,} de {total:,}",
    "validation nDCG@10": "nDCG@10 de validación",
    "epoch": "época",
    "curve": "curva",
    "{doing}… the current model keeps serving searches.": "{doing}… el modelo actual sigue atendiendo búsquedas.",
    "{doing} failed; the current model keeps serving. {error}": (
        "{doing} falló; el modelo actual sigue sirviendo. {error}"
    ),
    # evaluate
    "nDCG@10, Recall@100 and MRR@10 of recsys against BM25 and sentence-transformers + FAISS (all-MiniLM-L6-v2, "
    "exhaustive cosine search) on the same queries. Without sentence-transformers installed, the dense baseline "
    "is this model's own encoder with an untrained head, and the table says so.": (
        "nDCG@10, Recall@100 y MRR@10 de recsys frente a BM25 y sentence-transformers + FAISS (all-MiniLM-L6-v2, "
        "búsqueda exhaustiva por coseno) con las mismas búsquedas. Sin sentence-transformers instalado, la "
        "referencia densa es el propio codificador de este modelo con un cabezal sin entrenar, y la tabla lo dice."
    ),
    "Running the three systems…": "Ejecutando los tres sistemas…",
    "{count} queries ({what}).": "{count} búsquedas ({what}).",
    'Queries file: JSON Lines of {{"qid", "query", "relevant": [ids]}}, up to {limit} MB': (
        'Archivo de búsquedas: JSON Lines de {{"qid", "query", "relevant": [ids]}}, hasta {limit} MB'
    ),
    "Or use genre queries made from this catalog's labels": (
        "O usa búsquedas de género hechas con las etiquetas del catálogo"
    ),
    "recsys reads genres from a query, which favours it on these; upload your own queries for a fairer test.": (
        "recsys lee los géneros de la búsqueda, lo que le favorece aquí; sube tus propias búsquedas para una "
        "prueba más justa."
    ),
    "No queries to evaluate.": "No hay búsquedas que evaluar.",
    "genre queries from the catalog's labels": "búsquedas de género de las etiquetas del catálogo",
    # the engine's words the app shows: stages of long work, query errors, notes
    "First start: building the default model of recsys's own catalog (about a minute)": (
        "Primer arranque: construyendo el modelo por defecto del catálogo de recsys (alrededor de un minuto)"
    ),
    "First start: {stage} ({done:,} of {total:,})": "Primer arranque: {stage} ({done:,} de {total:,})",
    "Loading the model…": "Cargando el modelo…",
    "embedding": "codificando descripciones",
    "encoding queries": "codificando búsquedas",
    "indexing": "indexando",
    "training head": "entrenando el cabezal",
    "training the history model": "entrenando el modelo del historial",
    "fine-tuning encoder": "ajustando el codificador",
    "the query is empty: type a few words, a genre or a title": (
        "la búsqueda está vacía: escribe unas palabras, un género o un título"
    ),
    "the query has nothing to search for (no letters or digits): type a few words": (
        "la búsqueda no tiene nada que buscar (ni letras ni cifras): escribe unas palabras"
    ),
    "like at least one title to get recommendations": "marca al menos un título con ♡ para recibir recomendaciones",
    "no translation (install the Debian package apertium-en-es): the encoder reads the words as typed": (
        "sin traducción (instala el paquete de Debian apertium-en-es): el codificador lee las palabras tal cual"
    ),
    "read as a description: the places and years in it are searched as words, not as filters": (
        "leída como una descripción: sus lugares y años se buscan como palabras, no como filtros"
    ),
}

# The words of the engine's "understood as" lines ("genre: Horror, from 'terror'"), and genre names.
READING_WORDS = {
    "genre": "género", "director": "dirección", "cast": "reparto", "person": "persona", "like": "como",
    "not": "sin", "spelling": "ortografía", "years": "años", "kind": "tipo", "country": "país",
    "language": "idioma", "rating": "clasificación", "runtime": "duración", "length": "duración",
    "translated": "traducido", "predicted from descriptions": "predicho de las descripciones",
    "at most": "como mucho", "at least": "al menos", "minutes": "minutos", "season": "temporada",
    "seasons": "temporadas", "movie": "película", "series": "serie", "none in this catalog": "ninguna en este catálogo",
}  # fmt: skip
GENRE_NAMES = {
    "Action": "Acción", "Adventure": "Aventura", "Animation": "Animación", "Comedy": "Comedia",
    "Crime": "Policíaca", "Documentary": "Documental", "Drama": "Drama", "Family": "Familiar",
    "Fantasy": "Fantasía", "History": "Historia", "Horror": "Terror", "Music": "Música", "Mystery": "Misterio",
    "Romance": "Romance", "Science Fiction": "Ciencia ficción", "Thriller": "Suspense", "War": "Bélica",
    "Western": "Del oeste", "Sport": "Deporte", "Reality": "Telerrealidad",
}  # fmt: skip
EXAMPLES_ES = [
    "ciencia ficción sobre extraterrestres",
    "comedia romántica de los 90",
    "terror en una casa encantada",
    "series de animación para niños",
    "un atraco que sale mal",
    "documental sobre música",
]


def ui_language() -> str:
    """The language the user chose for the app: "en" or "es"."""
    return UI_LANGUAGES.get(st.session_state.get("ui_language", "English"), "en")


def t(text: str, **values) -> str:
    """``text`` in the app's language, with its named values filled in."""
    template = SPANISH.get(text, text) if ui_language() == "es" else text
    return template.format(**values) if values else template


def both_languages(text: str, **values) -> str:
    """English and Spanish together, for what shows before the user can choose a language (the first start).

    Values that are messages themselves (a stage of the work: "embedding") are put in Spanish too.
    """
    spanish = {name: SPANISH.get(value, value) if isinstance(value, str) else value for name, value in values.items()}
    return f"{text.format(**values)} / {SPANISH.get(text, text).format(**spanish)}"


def reading_line(shown: str) -> str:
    """An engine's "understood as" line in the app's language ("genre: Horror, from 'terror'")."""
    if ui_language() != "es":
        return shown
    head, _, source = shown.partition(", from '")
    parts = []
    for part in head.split(" / "):
        what, _, value = part.partition(": ")
        value = GENRE_NAMES.get(value, value) if what == "genre" else value
        for english, spanish in sorted(READING_WORDS.items(), key=lambda item: -len(item[0])):
            if what in ("kind", "runtime", "length", "rating") or english == "predicted from descriptions":
                value = re.sub(rf"\b{re.escape(english)}\b", spanish, value)
        parts.append(f"{READING_WORDS.get(what, what)}: {value}")
    return " / ".join(parts) + (f", de '{source}" if source else "")
