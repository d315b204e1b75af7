"""Contract types for Ape from the artifacts shipped in the package, not from a compiled project.

`munibond` commands run from any folder, so they never read `ape.project` (the project in the current
directory): `SHIPPED.<Name>` is an Ape `ContractContainer` built from `munibond/artifacts/<Name>.json`
(deployable, with bytecode) or `munibond/abi/<Name>.json` (ABI only, for `.at`). Each name gets one
`ContractType` object for the whole process (Ape matches custom errors by contract type).

Functions that take a `project` argument (e.g. `munibond.chain.deployment.bond_token`) accept `SHIPPED` or, in
this repository's tests and benchmarks, Ape's compiled `project`: both have a container per contract name.
"""

from __future__ import annotations

import functools
from typing import Any

from munibond.abi_export import ABI_DIR, ARTIFACT_DIR, load_abi, load_artifact


@functools.cache
def contract_type(name: str) -> Any:
    """The `ethpm_types.ContractType` of a shipped contract (with bytecode when it is deployable)."""
    from ethpm_types import ContractType

    if (ARTIFACT_DIR / f"{name}.json").exists():
        artifact = load_artifact(name)
        return ContractType.model_validate(
            {
                "contractName": name,
                "sourceId": artifact.get("sourceName"),
                "abi": artifact["abi"],
                "deploymentBytecode": {"bytecode": artifact["bytecode"]},
                "runtimeBytecode": {"bytecode": artifact["deployedBytecode"]},
            }
        )
    if (ABI_DIR / f"{name}.json").exists():
        return ContractType.model_validate({"contractName": name, "abi": load_abi(name)})
    raise AttributeError(f"no shipped contract {name!r} (see {ABI_DIR})")


class ShippedContracts:
    """`SHIPPED.BondFactory` etc.: Ape containers of the shipped contracts, like `ape.project.BondFactory`."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _container(name)

    def __repr__(self) -> str:
        return "<munibond shipped contracts>"


@functools.cache
def _container(name: str) -> Any:
    from ape.contracts import ContractContainer

    return ContractContainer(contract_type(name))


SHIPPED = ShippedContracts()
