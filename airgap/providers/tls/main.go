// Command pulumi-resource-tls is Pulumi's "tls" resource plugin, bridged from the upstream
// Terraform provider (terraform-plugin-framework). `pulumi-resource-tls tfgen schema --out DIR`
// writes the schema and bridge metadata that the second build embeds.
package main

import (
	"context"
	_ "embed"
	"os"

	"github.com/hashicorp/terraform-provider-tls/shim"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
)

// version is the npm SDK's version, set with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func info() tfbridge.ProviderInfo {
	i := tfbridge.ProviderInfo{
		P:                              pfbridge.ShimProvider(shim.NewProvider()),
		Name:                           "tls",
		Version:                        version,
		MetadataInfo:                   tfbridge.NewProviderMetadata(metadata),
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
	}
	// tls_private_key is tls:index/privateKey:PrivateKey.
	i.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return i
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		pftfgen.Main("tls", info())
		return
	}
	meta := pfbridge.ProviderMetadata{PackageSchema: schema, BridgeMetadata: metadata}
	pfbridge.Main(context.Background(), "tls", info(), meta)
}
