// Command pulumi-resource-random is Pulumi's "random" resource plugin, bridged from the upstream
// Terraform provider (terraform-plugin-framework). `pulumi-resource-random tfgen schema --out DIR`
// writes the schema and bridge metadata that the second build embeds.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// version is the npm SDK's version, set with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

//go:embed schema.json
var schema []byte

//go:embed bridge-metadata.json
var metadata []byte

func info() tfbridge.ProviderInfo {
	i := tfbridge.ProviderInfo{
		P:                           pfbridge.ShimProvider(shim.NewProvider()),
		Name:                        "random",
		Version:                     version,
		MetadataInfo:                tfbridge.NewProviderMetadata(metadata),
		EnableAccurateBridgePreview: true,
		Resources: map[string]*tfbridge.ResourceInfo{
			// random_bytes has no id attribute; its value serves, as in the published plugin.
			"random_bytes": {ComputeID: bytesID},
		},
	}
	// The SDK keeps the prefix: random_password is random:index/randomPassword:RandomPassword.
	keepPrefix := func(module, name string) (string, error) {
		return tokens.MakeStandard("random")(module, "Random"+name)
	}
	i.MustComputeTokens(tokens.SingleModule("random_", "index", keepPrefix))
	return i
}

func bytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	value := state["base64"]
	if value.IsSecret() {
		value = value.SecretValue().Element
	}
	if !value.IsString() {
		return "", fmt.Errorf("random_bytes: the state has no base64 string to use as its id")
	}
	return resource.ID(value.StringValue()), nil
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		pftfgen.Main("random", info())
		return
	}
	meta := pfbridge.ProviderMetadata{PackageSchema: schema, BridgeMetadata: metadata}
	pfbridge.Main(context.Background(), "random", info(), meta)
}
