"""The index definition is accepted by a minimal Elasticsearch and applied through the template."""

from __future__ import annotations

from elasticsearch import AsyncElasticsearch

from indexers.elastic import aliased_indices, ensure_index
from indexers.mapping import index_mappings, index_name, template_name


async def test_ensure_index_creates_template_index_and_alias_idempotently(
    es: AsyncElasticsearch, es_prefix: str, alias: str
) -> None:
    first = await ensure_index(es, es_prefix)
    again = await ensure_index(es, es_prefix)

    assert first == again == index_name(es_prefix, 1)
    assert await aliased_indices(es, alias) == [first]
    assert (await es.indices.exists_index_template(name=template_name(es_prefix))).body
    mapping = (await es.indices.get_mapping(index=alias)).body[first]["mappings"]
    assert mapping["dynamic"] == "strict"
    assert set(mapping["properties"]) == set(index_mappings()["properties"])
    assert mapping["properties"]["references"]["type"] == "nested"
    assert mapping["properties"]["timeline"] == {"type": "object", "enabled": False}


async def test_template_applies_to_any_new_versioned_index(es: AsyncElasticsearch, es_prefix: str) -> None:
    await ensure_index(es, es_prefix)
    await es.indices.create(index=index_name(es_prefix, 7))

    mapping = (await es.indices.get_mapping(index=index_name(es_prefix, 7))).body
    assert mapping[index_name(es_prefix, 7)]["mappings"]["dynamic"] == "strict"


async def test_concurrent_ensure_index_agree(es: AsyncElasticsearch, es_prefix: str, alias: str) -> None:
    import asyncio

    results = await asyncio.gather(*(ensure_index(es, es_prefix) for _ in range(4)))

    assert set(results) == {index_name(es_prefix, 1)}
    assert await aliased_indices(es, alias) == [index_name(es_prefix, 1)]
