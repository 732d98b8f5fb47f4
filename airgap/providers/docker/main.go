// Command pulumi-resource-docker is Pulumi's "docker" resource plugin, bridged from the upstream
// Terraform provider (kreuzwerker/terraform-provider-docker, its SDKv2 half: every resource but
// compose). `pulumi-resource-docker tfgen schema --out DIR` writes the schema and bridge metadata
// that the second build embeds.
//
// The published plugin also serves `docker:index/image:Image`, an image build written in Go inside
// pulumi-docker itself; this one does not. A stack that runs it uses a prebuilt API image
// (`apiImage`, from `npm run airgap:images`), which the program runs as a RemoteImage.
package main

import (
	_ "embed"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// version is the npm SDK's version, set with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func info() tfbridge.ProviderInfo {
	i := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(shim.NewProvider(version)),
		Name:         "docker",
		Version:      version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
		// Names the SDK uses where they differ from the bridge's defaults.
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
			"docker_container": {
				Tok: "docker:index/container:Container",
				// Container names are unique on an engine: a replacement must remove the old one first.
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    "docker:index/remoteImage:RemoteImage",
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
		},
		Config: map[string]*tfbridge.SchemaInfo{
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		EnableAccurateBridgePreview: true,
	}
	// docker_network is docker:index/network:Network.
	i.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	return i
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		tfgen.Main("docker", version, info())
		return
	}
	tfbridge.Main("docker", version, info(), schema)
}
